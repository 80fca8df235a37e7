import {
  firstQuestionFields,
  type ParticipantRecord,
  type PollRecord,
  type PollStatus,
} from "../domain/poll.js";
import type { NewPoll, PollStore } from "../usecases/ports.js";
import type { Database, Queryable } from "./database.js";
import { fromQuestionRow, QUESTIONS_JSON, type QuestionRow, toQuestionRow } from "./question-rows.js";
import { type ResultsJson, snapshotOf } from "./results-store.js";

interface PollRow {
  [k: string]: unknown;
  id: string;
  room_code: string;
  title: string | null;
  active_question: number;
  status: PollStatus;
  host_token_hash: string;
  created_at: string | Date;
  questions: QuestionRow[] | string;
}

/** json_agg arrives parsed from pg and as text from some PGlite paths. */
export const jsonArray = <T>(v: T[] | string | null | undefined): T[] =>
  typeof v === "string" ? (JSON.parse(v) as T[]) : (v ?? []);

const toPoll = (r: PollRow): PollRecord => {
  const questions = jsonArray(r.questions).map(fromQuestionRow);
  return {
    id: r.id,
    roomCode: r.room_code,
    title: r.title,
    questions,
    activeQuestion: Number(r.active_question),
    ...firstQuestionFields(questions),
    status: r.status,
    hostTokenHash: r.host_token_hash,
    createdAt: new Date(r.created_at).toISOString(),
  };
};

const POLL_SELECT = `
SELECT p.id, p.room_code, p.title, p.active_question, p.status, p.host_token_hash, p.created_at,
       ${QUESTIONS_JSON} AS questions
FROM polls p`;

interface AddParticipantsReply {
  poll: "missing" | "present";
  added: number;
  /** The active question's results as of the batch (migration 008). */
  results?: ResultsJson;
}

const isUniqueViolation = (err: unknown, constraint: string) =>
  (err as { code?: string }).code === "23505" &&
  ((err as { constraint?: string }).constraint === constraint ||
    String((err as Error).message).includes(constraint));

/** Polls and participants in SQL shared verbatim by PostgreSQL and PGlite. */
export function createPollStore(db: Database): PollStore & {
  rebuildCounts(pollId: string): Promise<number[]>;
  /** A participant's option in the first question (what databases written before presentations hold). */
  voteOf(pollId: string, participantId: string): Promise<number | undefined>;
} {
  return {
    async insertPoll(p: NewPoll) {
      try {
        const questions = p.questions.map(toQuestionRow);
        const options = questions.flatMap((q) =>
          q.choices.map((label, i) => [q.position, i, label] as const),
        );
        const first = questions[0];
        return await db.transaction(async (tx) => {
          // question and allow_vote_change of polls keep describing the first question for older instances.
          const rows = await tx.query<{ created_at: string | Date }>(
            "INSERT INTO polls (id, room_code, title, question, allow_vote_change, host_token_hash) VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at",
            [
              p.id,
              p.roomCode,
              p.title ?? null,
              first?.text ?? "",
              first?.allowVoteChange ?? false,
              p.hostTokenHash,
            ],
          );
          await tx.query(
            `INSERT INTO questions (poll_id, position, type, text, allow_vote_change, settings)
             SELECT $1, t.position, t.type, t.text, t.allow, t.settings::jsonb
             FROM unnest($2::smallint[], $3::text[], $4::text[], $5::boolean[], $6::text[]) AS t(position, type, text, allow, settings)`,
            [
              p.id,
              questions.map((q) => q.position),
              questions.map((q) => q.type),
              questions.map((q) => q.text),
              questions.map((q) => q.allowVoteChange),
              questions.map((q) => JSON.stringify(q.settings)),
            ],
          );
          await tx.query(
            `INSERT INTO poll_options (poll_id, question_position, position, label)
             SELECT $1, t.question, t.position, t.label FROM unnest($2::smallint[], $3::smallint[], $4::text[]) AS t(question, position, label)`,
            [p.id, options.map((o) => o[0]), options.map((o) => o[1]), options.map((o) => o[2])],
          );
          return { createdAt: new Date(rows[0]?.created_at ?? Date.now()).toISOString() };
        });
      } catch (err) {
        if (isUniqueViolation(err, "polls_room_code_key")) return "taken" as const;
        throw err;
      }
    },

    async findPollByCode(roomCode) {
      const rows = await db.query<PollRow>(`${POLL_SELECT} WHERE p.room_code = $1`, [roomCode]);
      return rows[0] && toPoll(rows[0]);
    },

    async setStatus(pollId, status) {
      const rows = await db.query(
        "UPDATE polls SET status = $2, updated_at = now(), last_activity_at = now() WHERE id = $1 RETURNING id",
        [pollId, status],
      );
      return rows.length > 0;
    },

    async deletePoll(pollId) {
      const rows = await db.query("DELETE FROM polls WHERE id = $1 RETURNING id", [pollId]);
      return rows.length > 0;
    },

    async addParticipants(pollId, roomCode, participants, cap) {
      const rows = await db.query<{ reply: AddParticipantsReply | string }>(
        "SELECT zephyr_add_participants($1, $2::uuid[], $3::text[], $4::text[], $5) AS reply",
        [
          pollId,
          participants.map((p) => p.id),
          participants.map((p) => p.nickname),
          participants.map((p) => p.tokenHash),
          cap,
        ],
      );
      const raw = rows[0]?.reply;
      const reply = (typeof raw === "string" ? JSON.parse(raw) : raw) as AddParticipantsReply | undefined;
      if (!reply || reply.poll === "missing" || !reply.results) return "missing";
      return { added: Number(reply.added), snapshot: snapshotOf(pollId, roomCode, reply.results) };
    },

    async findParticipantByTokenHash(tokenHash): Promise<ParticipantRecord | undefined> {
      const rows = await db.query<{ id: string; poll_id: string; nickname: string }>(
        "SELECT id, poll_id, nickname FROM participants WHERE token_hash = $1",
        [tokenHash],
      );
      const r = rows[0];
      return r && { id: r.id, pollId: r.poll_id, nickname: r.nickname };
    },

    async voteOf(pollId, participantId) {
      const rows = await db.query<{ option_position: number }>(
        "SELECT option_position FROM votes WHERE poll_id = $1 AND question_position = 0 AND participant_id = $2",
        [pollId, participantId],
      );
      return rows[0] ? Number(rows[0].option_position) : undefined;
    },

    async answersOf(pollId, participantId) {
      const rows = await db.query<{ q: number; kind: "choice" | "words" | "texts"; value: unknown }>(
        `SELECT question_position AS q, 'choice' AS kind, to_jsonb(bit_or(1 << option_position)) AS value
           FROM votes WHERE poll_id = $1 AND participant_id = $2 GROUP BY question_position
         UNION ALL
         SELECT question_position, 'words', jsonb_agg(word ORDER BY created_at, word COLLATE "C")
           FROM word_entries WHERE poll_id = $1 AND participant_id = $2 GROUP BY question_position
         UNION ALL
         SELECT question_position, 'texts',
                jsonb_agg(jsonb_build_object('answerId', id, 'text', text, 'status', status) ORDER BY no)
           FROM open_answers WHERE poll_id = $1 AND participant_id = $2 GROUP BY question_position
         ORDER BY 1`,
        [pollId, participantId],
      );
      return rows.map((r) => {
        const value = typeof r.value === "string" ? JSON.parse(r.value) : r.value;
        const questionIndex = Number(r.q);
        if (r.kind === "choice") return { questionIndex, kind: "choice" as const, mask: Number(value) };
        if (r.kind === "words") return { questionIndex, kind: "words" as const, words: value as string[] };
        return { questionIndex, kind: "texts" as const, texts: value };
      });
    },

    /** Recomputes the counters from the votes table (the source of truth). */
    async rebuildCounts(pollId) {
      await db.query(
        `UPDATE poll_options o SET vote_count = COALESCE(
           (SELECT count(*) FROM votes v WHERE v.poll_id = o.poll_id AND v.question_position = o.question_position
              AND v.option_position = o.position), 0)
         WHERE o.poll_id = $1`,
        [pollId],
      );
      return countsOf(db, pollId);
    },
  };
}

async function countsOf(q: Queryable, pollId: string): Promise<number[]> {
  const rows = await q.query<{ vote_count: number }>(
    "SELECT vote_count FROM poll_options WHERE poll_id = $1 AND question_position = 0 ORDER BY position",
    [pollId],
  );
  return rows.map((r) => Number(r.vote_count));
}
