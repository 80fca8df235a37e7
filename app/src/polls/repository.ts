import type { Queryable } from "../db/types.js";

export type PollStatus = "open" | "closed";

export interface PollRecord {
  id: string;
  roomCode: string;
  question: string;
  options: string[];
  allowVoteChange: boolean;
  status: PollStatus;
  hostTokenHash: string;
  createdAt: string;
}

export interface ParticipantRecord {
  id: string;
  pollId: string;
  nickname: string;
}

interface PollRow {
  [k: string]: unknown;
  id: string;
  room_code: string;
  question: string;
  allow_vote_change: boolean;
  status: PollStatus;
  host_token_hash: string;
  created_at: string | Date;
  options: string[] | string;
}

const toPoll = (r: PollRow): PollRecord => ({
  id: r.id,
  roomCode: r.room_code,
  question: r.question,
  options: typeof r.options === "string" ? (JSON.parse(r.options) as string[]) : r.options,
  allowVoteChange: r.allow_vote_change,
  status: r.status,
  hostTokenHash: r.host_token_hash,
  createdAt: new Date(r.created_at).toISOString(),
});

const POLL_SELECT = `
SELECT p.id, p.room_code, p.question, p.allow_vote_change, p.status, p.host_token_hash, p.created_at,
       (SELECT json_agg(o.label ORDER BY o.position) FROM poll_options o WHERE o.poll_id = p.id) AS options
FROM polls p`;

/** SQL for polls, participants and votes; shared verbatim by PostgreSQL and PGlite. */
export const pollRepository = {
  async insertPoll(
    q: Queryable,
    p: {
      id: string;
      roomCode: string;
      question: string;
      options: string[];
      allowVoteChange: boolean;
      hostTokenHash: string;
    },
  ): Promise<{ createdAt: string }> {
    const rows = await q.query<{ created_at: string | Date }>(
      "INSERT INTO polls (id, room_code, question, allow_vote_change, host_token_hash) VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
      [p.id, p.roomCode, p.question, p.allowVoteChange, p.hostTokenHash],
    );
    await q.query(
      "INSERT INTO poll_options (poll_id, position, label) SELECT $1, t.ord - 1, t.label FROM unnest($2::text[]) WITH ORDINALITY AS t(label, ord)",
      [p.id, p.options],
    );
    return { createdAt: new Date(rows[0]?.created_at ?? Date.now()).toISOString() };
  },

  async findPollByCode(q: Queryable, roomCode: string): Promise<PollRecord | undefined> {
    const rows = await q.query<PollRow>(`${POLL_SELECT} WHERE p.room_code = $1`, [roomCode]);
    return rows[0] && toPoll(rows[0]);
  },

  /** O(options): reads the maintained counters, never the votes table. */
  async counts(q: Queryable, pollId: string): Promise<number[]> {
    const rows = await q.query<{ vote_count: number }>(
      "SELECT vote_count FROM poll_options WHERE poll_id = $1 ORDER BY position",
      [pollId],
    );
    return rows.map((r) => Number(r.vote_count));
  },

  /** The results endpoint's one round trip: code -> counters and their version, O(options). */
  async resultsByCode(
    q: Queryable,
    roomCode: string,
  ): Promise<{ counts: number[]; seq: number } | undefined> {
    const rows = await q.query<{ counts: number[] | string; seq: number }>(
      `SELECT (SELECT json_agg(o.vote_count ORDER BY o.position) FROM poll_options o WHERE o.poll_id = p.id) AS counts,
              p.results_version AS seq
       FROM polls p WHERE p.room_code = $1`,
      [roomCode],
    );
    const row = rows[0];
    if (!row) return undefined;
    const counts = (typeof row.counts === "string" ? (JSON.parse(row.counts) as number[]) : row.counts).map(
      Number,
    );
    return { counts, seq: Number(row.seq) };
  },

  async setStatus(q: Queryable, pollId: string, status: PollStatus): Promise<boolean> {
    const rows = await q.query(
      "UPDATE polls SET status = $2, updated_at = now() WHERE id = $1 RETURNING id",
      [pollId, status],
    );
    return rows.length > 0;
  },

  async deletePoll(q: Queryable, pollId: string): Promise<boolean> {
    const rows = await q.query("DELETE FROM polls WHERE id = $1 RETURNING id", [pollId]);
    return rows.length > 0;
  },

  async insertParticipant(
    q: Queryable,
    p: { id: string; pollId: string; nickname: string; tokenHash: string },
  ): Promise<void> {
    await q.query("INSERT INTO participants (id, poll_id, nickname, token_hash) VALUES ($1, $2, $3, $4)", [
      p.id,
      p.pollId,
      p.nickname,
      p.tokenHash,
    ]);
  },

  async findParticipantByTokenHash(q: Queryable, tokenHash: string): Promise<ParticipantRecord | undefined> {
    const rows = await q.query<{ id: string; poll_id: string; nickname: string }>(
      "SELECT id, poll_id, nickname FROM participants WHERE token_hash = $1",
      [tokenHash],
    );
    const r = rows[0];
    return r && { id: r.id, pollId: r.poll_id, nickname: r.nickname };
  },

  async voteOf(q: Queryable, pollId: string, participantId: string): Promise<number | undefined> {
    const rows = await q.query<{ option_position: number }>(
      "SELECT option_position FROM votes WHERE poll_id = $1 AND participant_id = $2",
      [pollId, participantId],
    );
    return rows[0] ? Number(rows[0].option_position) : undefined;
  },

  /** Recomputes the counters from the votes table (the source of truth). */
  async rebuildCounts(q: Queryable, pollId: string): Promise<number[]> {
    await q.query(
      `UPDATE poll_options o SET vote_count = COALESCE(
         (SELECT count(*) FROM votes v WHERE v.poll_id = o.poll_id AND v.option_position = o.position), 0)
       WHERE o.poll_id = $1`,
      [pollId],
    );
    return this.counts(q, pollId);
  },
};
