import { AppError } from "../domain/errors.js";
import type { ResultsSnapshot, VoteOutcome } from "../domain/poll.js";
import type { VoteRequest } from "../usecases/ports.js";
import type { Database } from "./database.js";
import { jsonArray } from "./poll-store.js";

export type BatchResult = { ok: true; outcome: VoteOutcome } | { ok: false; error: AppError };

/** What the vote writer and the results module read and write. */
export interface ResultsStore {
  /** A batch of answers to one question, in one statement; the snapshot is present when the counts changed. */
  castBatch(
    pollId: string,
    questionIndex: number,
    votes: VoteRequest[],
  ): Promise<{ results: BatchResult[]; snapshot?: ResultsSnapshot }>;
  /** (seq, counts, participants) of one poll as of one statement. */
  snapshot(pollId: string, roomCode: string): Promise<ResultsSnapshot>;
  snapshotByCode(roomCode: string): Promise<ResultsSnapshot | undefined>;
  /** Snapshots of several polls in one statement (deleted ones are absent). */
  snapshots(pollIds: string[]): Promise<ResultsSnapshot[]>;
}

type CastVotesReply =
  | { poll: "missing" }
  | { poll: "closed" }
  | { poll: "open"; question: "not-active" | "missing" }
  | {
      poll: "open";
      question?: undefined;
      outcomes: Array<VoteOutcome | "not-allowed">;
      seq?: number;
      counts?: number[];
      answered?: number;
      participants?: number;
    };

const SNAPSHOT_COLUMNS = `p.id, p.room_code, p.active_question AS question, p.results_version AS seq,
  p.participant_count AS participants,
  (SELECT q.answer_count FROM questions q WHERE q.poll_id = p.id AND q.position = p.active_question) AS answered,
  (SELECT json_agg(o.vote_count ORDER BY o.position) FROM poll_options o
   WHERE o.poll_id = p.id AND o.question_position = p.active_question) AS counts`;

interface SnapshotRow {
  [k: string]: unknown;
  id: string;
  room_code: string;
  question: number;
  seq: number;
  answered: number | null;
  participants: number;
  counts: number[] | string;
}

const toSnapshot = (r: SnapshotRow): ResultsSnapshot => {
  const counts = jsonArray(r.counts).map(Number);
  return {
    pollId: r.id,
    roomCode: r.room_code,
    questionIndex: Number(r.question),
    seq: Number(r.seq),
    counts,
    total: Number(r.answered ?? 0),
    participants: Number(r.participants),
  };
};

export function createResultsStore(db: Database): ResultsStore {
  return {
    /**
     * zephyr_cast_choices (migration 006): one statement, so a transaction of its own and one round trip however many votes it carries. The
     * poll row lock it takes first orders all batches of a poll across instances, which is what makes
     * (results_version, counts) a consistent snapshot.
     */
    async castBatch(pollId, questionIndex, votes) {
      const rows = await db.query<{ reply: CastVotesReply | string }>(
        "SELECT zephyr_cast_choices($1, $2::smallint, $3::uuid[], $4::integer[]) AS reply",
        [pollId, questionIndex, votes.map((v) => v.participantId), votes.map((v) => v.mask)],
      );
      const raw = rows[0]?.reply;
      const reply = (typeof raw === "string" ? JSON.parse(raw) : raw) as CastVotesReply | undefined;
      if (!reply || reply.poll === "missing") {
        const error = new AppError("POLL_NOT_FOUND", "no poll with this room code");
        return { results: votes.map(() => ({ ok: false, error })) };
      }
      if (reply.poll === "closed") {
        const error = new AppError("POLL_CLOSED", "this poll is closed");
        return { results: votes.map(() => ({ ok: false, error })) };
      }
      if (reply.question) {
        const error = new AppError("QUESTION_NOT_ACTIVE", "this question is not the active one");
        return { results: votes.map(() => ({ ok: false, error })) };
      }
      const results: BatchResult[] = reply.outcomes.map((outcome) =>
        outcome === "not-allowed"
          ? {
              ok: false,
              error: new AppError("VOTE_CHANGE_NOT_ALLOWED", "this poll does not allow changing a vote"),
            }
          : { ok: true, outcome },
      );
      if (reply.seq === undefined || !reply.counts) return { results };
      const counts = reply.counts.map(Number);
      return {
        results,
        snapshot: {
          pollId,
          roomCode: (votes[0] as VoteRequest).roomCode,
          questionIndex,
          seq: Number(reply.seq),
          counts,
          total: Number(reply.answered ?? 0),
          participants: Number(reply.participants ?? 0),
          oldestVoteAt: Math.min(...votes.map((v) => v.receivedAt)),
        },
      };
    },

    async snapshot(pollId, roomCode) {
      const rows = await db.query<SnapshotRow>(`SELECT ${SNAPSHOT_COLUMNS} FROM polls p WHERE p.id = $1`, [
        pollId,
      ]);
      const row = rows[0];
      if (row) return toSnapshot(row);
      return { pollId, roomCode, questionIndex: 0, seq: 0, counts: [], total: 0, participants: 0 };
    },

    async snapshotByCode(roomCode) {
      const rows = await db.query<SnapshotRow>(
        `SELECT ${SNAPSHOT_COLUMNS} FROM polls p WHERE p.room_code = $1`,
        [roomCode],
      );
      return rows[0] && toSnapshot(rows[0]);
    },

    async snapshots(pollIds) {
      const rows = await db.query<SnapshotRow>(
        `SELECT ${SNAPSHOT_COLUMNS} FROM polls p WHERE p.id = ANY($1::uuid[])`,
        [pollIds],
      );
      return rows.map(toSnapshot);
    },
  };
}
