import { AppError } from "../domain/errors.js";
import type { ResultsSnapshot, VoteOutcome } from "../domain/poll.js";
import type { OpenAnswer, QuestionResults, QuestionType } from "../domain/questions.js";
import type { AnswerRequest } from "../usecases/ports.js";
import type { Database } from "./database.js";

export type BatchResult = { ok: true; outcome: VoteOutcome } | { ok: false; error: AppError };

/** What the answer writer and the results module read and write. */
export interface ResultsStore {
  /**
   * A batch of answers to one question, all of the question's kind, in one statement; the snapshot is present
   * when the results changed.
   */
  castBatch(
    pollId: string,
    questionIndex: number,
    answers: AnswerRequest[],
  ): Promise<{ results: BatchResult[]; snapshot?: ResultsSnapshot }>;
  /** One question's results (the active one by default) as of one statement. */
  snapshot(pollId: string, questionIndex?: number): Promise<ResultsSnapshot | undefined>;
  snapshotByCode(roomCode: string, questionIndex?: number): Promise<ResultsSnapshot | undefined>;
  /** Snapshots of the active questions of several polls in one statement (deleted ones are absent). */
  snapshots(pollIds: string[]): Promise<ResultsSnapshot[]>;
}

/** zephyr_question_results (migration 008) as JSON. */
export interface ResultsJson {
  question: number;
  active: number;
  questions: number;
  type: QuestionType;
  hidden: boolean;
  seq: number;
  participants: number;
  answered: number;
  shown: number;
  min: number | null;
  counts: number[] | null;
  words: Array<{ text: string; count: number }> | null;
  answers: OpenAnswerJson[] | null;
  pending: OpenAnswerJson[] | null;
}

type OpenAnswerJson = Omit<OpenAnswer, "status">;

interface CastReply {
  poll: "missing" | "closed" | "open";
  question?: "not-active" | "missing";
  outcomes: Array<VoteOutcome | "not-allowed" | "already-answered" | "limit">;
  /** Present when the batch changed something (migration 008). */
  results?: ResultsJson;
}

const parsed = <T>(raw: unknown): T => (typeof raw === "string" ? JSON.parse(raw) : raw) as T;

/** Mean of a scale starting at `min`, to two decimals; null before anyone answered. */
export function averageOf(distribution: number[], min: number): number | null {
  const n = distribution.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const sum = distribution.reduce((a, c, i) => a + c * (min + i), 0);
  return Math.round((100 * sum) / n) / 100;
}

const isoAnswer = (a: OpenAnswerJson): OpenAnswer => ({
  id: a.id,
  text: a.text,
  nickname: a.nickname,
  createdAt: new Date(a.createdAt).toISOString(),
});

/** Results as clients see them: participants who answered in `total`, shown answers (and their count) for open. */
export function questionResultsOf(r: ResultsJson): QuestionResults {
  const counts = (r.counts ?? []).map(Number);
  const answered = Number(r.answered);
  switch (r.type) {
    case "single":
    case "multiple":
      return { type: r.type, counts, total: answered };
    case "rating":
      return {
        type: "rating",
        distribution: counts,
        average: averageOf(counts, Number(r.min ?? 0)),
        total: answered,
      };
    case "wordcloud":
      return {
        type: "wordcloud",
        words: (r.words ?? []).map((w) => ({ text: w.text, count: Number(w.count) })),
        total: answered,
      };
    case "open":
      return { type: "open", answers: (r.answers ?? []).map(isoAnswer), total: Number(r.shown) };
  }
}

export function snapshotOf(pollId: string, roomCode: string, r: ResultsJson): ResultsSnapshot {
  return {
    pollId,
    roomCode,
    questionIndex: Number(r.question),
    activeQuestion: Number(r.active),
    questionCount: Number(r.questions),
    seq: Number(r.seq),
    participants: Number(r.participants),
    hidden: Boolean(r.hidden),
    results: questionResultsOf(r),
    ...(r.pending ? { pending: r.pending.map(isoAnswer) } : {}),
  };
}

const REFUSALS = {
  "not-allowed": () =>
    new AppError("VOTE_CHANGE_NOT_ALLOWED", "this question does not allow changing an answer"),
  "already-answered": () => new AppError("ALREADY_ANSWERED", "you have already answered this question"),
  limit: () => new AppError("ALREADY_ANSWERED", "you have already given every answer this question takes"),
} as const;

/** One statement per batch, by the answers' kind (every answer of a batch is to the same question). */
function castStatement(pollId: string, questionIndex: number, answers: AnswerRequest[]) {
  const participants = answers.map((a) => a.participantId);
  const first = (answers[0] as AnswerRequest).answer;
  const call = (cast: string) => `SELECT ${cast} AS reply`;
  switch (first.kind) {
    case "choice":
      return {
        sql: call("zephyr_cast_choices($1, $2::smallint, $3::uuid[], $4::integer[])"),
        params: [
          pollId,
          questionIndex,
          participants,
          answers.map((a) => (a.answer.kind === "choice" ? a.answer.mask : 0)),
        ],
      };
    case "words":
      return {
        sql: call("zephyr_cast_words($1, $2::smallint, $3::uuid[], $4::jsonb)"),
        params: [
          pollId,
          questionIndex,
          participants,
          JSON.stringify(answers.map((a) => (a.answer.kind === "words" ? a.answer.words : []))),
        ],
      };
    case "text":
      return {
        sql: call("zephyr_cast_open_answers($1, $2::smallint, $3::uuid[], $4::uuid[], $5::text[], $6)"),
        params: [
          pollId,
          questionIndex,
          answers.map((a) => (a.answer.kind === "text" ? a.answer.id : "")),
          participants,
          answers.map((a) => (a.answer.kind === "text" ? a.answer.text : "")),
          first.limit,
        ],
      };
  }
}

const SNAPSHOT_SELECT =
  "SELECT p.id, p.room_code, zephyr_question_results(p.id, $2::smallint) AS results FROM polls p";

interface SnapshotRow {
  [k: string]: unknown;
  id: string;
  room_code: string;
  results: ResultsJson | string | null;
}

const fromRow = (r: SnapshotRow | undefined): ResultsSnapshot | undefined => {
  const results = r && parsed<ResultsJson | null>(r.results);
  return r && results ? snapshotOf(r.id, r.room_code, results) : undefined;
};

export function createResultsStore(db: Database): ResultsStore {
  return {
    /**
     * One statement, so a transaction of its own and one round trip however many answers it carries. The poll
     * row lock each cast takes first orders all batches and host actions of a poll across instances, which is
     * what makes (results_version, results) a consistent snapshot.
     */
    async castBatch(pollId, questionIndex, answers) {
      const { sql, params } = castStatement(pollId, questionIndex, answers);
      const rows = await db.query<{ reply: CastReply | string }>(sql, params);
      const reply = rows[0] && parsed<CastReply>(rows[0].reply);
      const refuseAll = (error: AppError) => ({
        results: answers.map(() => ({ ok: false as const, error })),
      });
      if (!reply || reply.poll === "missing")
        return refuseAll(new AppError("POLL_NOT_FOUND", "no poll with this room code"));
      if (reply.poll === "closed") return refuseAll(new AppError("POLL_CLOSED", "this poll is closed"));
      if (reply.question)
        return refuseAll(new AppError("QUESTION_NOT_ACTIVE", "this question is not the active one"));
      const results = reply.outcomes.map(
        (outcome): BatchResult =>
          outcome in REFUSALS
            ? { ok: false, error: REFUSALS[outcome as keyof typeof REFUSALS]() }
            : { ok: true, outcome: outcome as VoteOutcome },
      );
      if (!reply.results) return { results };
      const roomCode = (answers[0] as AnswerRequest).roomCode;
      return {
        results,
        snapshot: {
          ...snapshotOf(pollId, roomCode, reply.results),
          oldestVoteAt: Math.min(...answers.map((a) => a.receivedAt)),
        },
      };
    },

    async snapshot(pollId, questionIndex) {
      const rows = await db.query<SnapshotRow>(`${SNAPSHOT_SELECT} WHERE p.id = $1`, [
        pollId,
        questionIndex ?? null,
      ]);
      return fromRow(rows[0]);
    },

    async snapshotByCode(roomCode, questionIndex) {
      const rows = await db.query<SnapshotRow>(`${SNAPSHOT_SELECT} WHERE p.room_code = $1`, [
        roomCode,
        questionIndex ?? null,
      ]);
      return fromRow(rows[0]);
    },

    async snapshots(pollIds) {
      const rows = await db.query<SnapshotRow>(`${SNAPSHOT_SELECT} WHERE p.id = ANY($1::uuid[])`, [
        pollIds,
        null,
      ]);
      return rows.map(fromRow).filter((s): s is ResultsSnapshot => s !== undefined);
    },
  };
}
