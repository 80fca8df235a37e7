/**
 * What the storage tests share: both databases the service runs on, a seeded generator for random batches, the
 * one-by-one reference a batch must equal, and participants added past the join path.
 */
import { afterAll, beforeAll, inject } from "vitest";
import { createDatabase, requireServices } from "../../test/services.js";
import type { Database } from "../src/storage/database.js";
import { migrate } from "../src/storage/migrations/index.js";
import { createPgliteDatabase } from "../src/storage/pglite.js";
import { createPostgresDatabase } from "../src/storage/postgres.js";

/** PGlite always; PostgreSQL 15 when it is there (a fresh database named after `prefix` per open). */
export function databaseBackends(prefix: string): Array<[string, () => Promise<Database>]> {
  const pgUrl = inject("postgresUrl");
  const backends: Array<[string, () => Promise<Database>]> = [
    ["PGlite (embedded)", () => createPgliteDatabase()],
  ];
  if (requireServices("postgres") && pgUrl)
    backends.push([
      "PostgreSQL 15",
      async () => createPostgresDatabase({ connectionString: await createDatabase(pgUrl, prefix) }),
    ]);
  return backends;
}

/** A database from `open`, migrated before the describe block's tests and closed after them. */
export function migratedDatabase(open: () => Promise<Database>): () => Database {
  let db: Database | undefined;
  beforeAll(async () => {
    db = await open();
    await migrate(db);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });
  return () => {
    if (!db) throw new Error("the database is opened in beforeAll");
    return db;
  };
}

/** Small deterministic generator, so a failure names a seed that reproduces it. */
export function seededRandom(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s % n;
  };
}

/**
 * The answer rules, one answer at a time: what a batch must be equivalent to. Answers are (participant, value)
 * with values compared as wholes (an option, or a set of options as a bit mask); `refusal` is what a change
 * without allowVoteChange is reported as.
 */
export function answerOneByOne<R extends string>(
  stored: Map<string, number>,
  answers: Array<[string, number]>,
  allowChange: boolean,
  refusal: R,
) {
  const state = new Map(stored);
  const outcomes: Array<"created" | "changed" | "unchanged" | R> = answers.map(([pid, value]) => {
    const prev = state.get(pid);
    if (prev === undefined) {
      state.set(pid, value);
      return "created";
    }
    if (prev === value) return "unchanged";
    if (!allowChange) return refusal;
    state.set(pid, value);
    return "changed";
  });
  return { outcomes, state };
}

/** Participants named p0, p1, … in the order of `ids`, added straight to the table (not counted by the poll). */
export async function insertParticipants(db: Database, pollId: string, ids: string[]): Promise<void> {
  await db.query(
    "INSERT INTO participants (id, poll_id, nickname, token_hash) SELECT t.p, $1, 'p' || (t.ord - 1), t.p::text FROM unnest($2::uuid[]) WITH ORDINALITY AS t(p, ord)",
    [pollId, ids],
  );
}
