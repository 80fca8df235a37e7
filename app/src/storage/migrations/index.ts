import type { Logger } from "../../logging/index.js";
import type { Database } from "../database.js";
import { m001Initial } from "./001_initial.js";
import { m002ResultsVersion } from "./002_results_version.js";
import { m003CastVotes } from "./003_cast_votes.js";
import { m004PresenceRetention } from "./004_presence_retention.js";
import { m005AddParticipants } from "./005_add_participants.js";
import { m006Questions } from "./006_questions.js";
import { m007WordsAndOpenAnswers } from "./007_words_and_open_answers.js";
import { m008QuestionResults } from "./008_question_results.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: a released migration is never edited, a new version is added instead. */
export const migrations: readonly Migration[] = [
  m001Initial,
  m002ResultsVersion,
  m003CastVotes,
  m004PresenceRetention,
  m005AddParticipants,
  m006Questions,
  m007WordsAndOpenAnswers,
  m008QuestionResults,
];

// Arbitrary but fixed: every instance and the migrate Job must contend for the same lock.
export const MIGRATION_LOCK_KEY = 7_349_001;

export interface MigrationResult {
  applied: number[];
  current: number;
}

/**
 * Applies pending migrations, each in its own transaction, while holding a session-level advisory lock so
 * that several instances (or an instance and a migrate Job) starting together apply each one exactly once.
 */
export async function migrate(
  db: Database,
  logger?: Logger,
  list: readonly Migration[] = migrations,
): Promise<MigrationResult> {
  return db.withSession(async (s) => {
    await s.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await s.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      const done = new Set(
        (await s.query<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => r.version),
      );
      const applied: number[] = [];
      for (const m of [...list].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await s.exec("BEGIN");
        try {
          await s.exec(m.sql);
          await s.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
          await s.exec("COMMIT");
        } catch (err) {
          await s.exec("ROLLBACK").catch(() => undefined);
          throw err;
        }
        applied.push(m.version);
        logger?.info({ version: m.version, name: m.name }, "migration applied");
      }
      const newest = Math.max(0, ...done, ...applied);
      const known = Math.max(0, ...list.map((m) => m.version));
      if (newest > known) {
        logger?.warn({ newest, known }, "database schema is newer than this build (rolled back image?)");
      }
      return { applied, current: newest };
    } finally {
      await s.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  });
}
