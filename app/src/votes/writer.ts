import type { Database, Queryable } from "../db/types.js";
import { AppError, isAppError } from "../errors/index.js";
import type { Logger } from "../logging/index.js";

export interface VoteRequest {
  pollId: string;
  roomCode: string;
  participantId: string;
  optionIndex: number;
  /** Date.now() when the vote reached this instance; feeds the vote-to-broadcast latency. */
  receivedAt: number;
}

export type VoteOutcome = "created" | "changed" | "unchanged";

/** Counts as of one committed results_version: what vote-update messages carry. */
export interface ResultsSnapshot {
  pollId: string;
  roomCode: string;
  seq: number;
  counts: number[];
  total: number;
  participants: number;
  /** Earliest receivedAt among the votes this snapshot is the first to include. */
  oldestVoteAt?: number;
}

export interface VoteWriter {
  submit(vote: VoteRequest): Promise<VoteOutcome>;
  /** Resolves when every vote submitted so far is committed or rejected. */
  flush(): Promise<void>;
}

export interface VoteWriterOptions {
  db: Database;
  logger: Logger;
  /** 1 = one transaction per vote (the naive design, for comparison). */
  maxBatch?: number;
  windowMs?: number;
  onCommitted?: (snapshot: ResultsSnapshot) => void;
  onBatch?: (size: number) => void;
}

interface Pending {
  vote: VoteRequest;
  resolve(outcome: VoteOutcome): void;
  reject(err: unknown): void;
}

type Result = { ok: true; outcome: VoteOutcome } | { ok: false; error: AppError };

/**
 * Group commit: votes for one poll queue up while that poll's previous batch is being written, then go to
 * PostgreSQL together in one transaction (one counter update per option, not per vote). Each vote is
 * resolved only after its batch commits, so an acknowledged vote is durable.
 */
export function createVoteWriter({
  db,
  logger,
  maxBatch = 500,
  windowMs = 2,
  onCommitted,
  onBatch,
}: VoteWriterOptions): VoteWriter {
  const queues = new Map<string, { pending: Pending[]; inFlight: boolean; timer?: NodeJS.Timeout }>();
  const running = new Set<Promise<void>>();

  function track(p: Promise<void>) {
    running.add(p);
    p.finally(() => running.delete(p));
  }

  function schedule(pollId: string) {
    const q = queues.get(pollId);
    if (!q || q.inFlight || q.timer || q.pending.length === 0) return;
    if (q.pending.length >= maxBatch || windowMs === 0) {
      track(run(pollId));
    } else {
      q.timer = setTimeout(() => {
        q.timer = undefined;
        track(run(pollId));
      }, windowMs);
    }
  }

  async function run(pollId: string) {
    const q = queues.get(pollId);
    if (!q || q.inFlight || q.pending.length === 0) return;
    const batch = q.pending.splice(0, maxBatch);
    q.inFlight = true;
    try {
      await writeAndSettle(pollId, batch);
    } finally {
      q.inFlight = false;
      if (q.pending.length > 0) {
        // Votes that arrived during the write have waited long enough: write them at once.
        track(run(pollId));
      } else {
        queues.delete(pollId);
      }
    }
  }

  async function writeAndSettle(pollId: string, batch: Pending[]) {
    onBatch?.(batch.length);
    try {
      const { results, snapshot } = await db.transaction((tx) =>
        writeBatch(
          tx,
          pollId,
          batch.map((p) => p.vote),
        ),
      );
      batch.forEach((p, i) => {
        const r = results[i] as Result;
        if (r.ok) p.resolve(r.outcome);
        else p.reject(r.error);
      });
      if (snapshot) onCommitted?.(snapshot);
    } catch (err) {
      if (!isAppError(err)) logger.error({ err, pollId, votes: batch.length }, "vote batch failed");
      for (const p of batch) p.reject(err);
    }
  }

  return {
    submit(vote) {
      return new Promise<VoteOutcome>((resolve, reject) => {
        const pending = { vote, resolve, reject };
        if (maxBatch === 1) {
          // Naive mode: every vote is its own transaction, concurrently, exactly like a one-write-per-vote design.
          track(writeAndSettle(vote.pollId, [pending]));
          return;
        }
        let q = queues.get(vote.pollId);
        if (!q) {
          q = { pending: [], inFlight: false };
          queues.set(vote.pollId, q);
        }
        q.pending.push(pending);
        schedule(vote.pollId);
      });
    },
    async flush() {
      for (const [pollId, q] of queues) {
        if (q.timer) {
          clearTimeout(q.timer);
          q.timer = undefined;
          track(run(pollId));
        }
      }
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

/**
 * One poll's batch in one transaction. The poll row lock orders all batches of a poll across instances,
 * which is what makes (results_version, counts) a consistent snapshot.
 */
async function writeBatch(
  tx: Queryable,
  pollId: string,
  votes: VoteRequest[],
): Promise<{ results: Result[]; snapshot?: ResultsSnapshot }> {
  const polls = await tx.query<{
    status: string;
    allow_vote_change: boolean;
    results_version: number;
    room_code: string;
  }>("SELECT status, allow_vote_change, results_version, room_code FROM polls WHERE id = $1 FOR UPDATE", [
    pollId,
  ]);
  const poll = polls[0];
  if (!poll)
    return {
      results: votes.map(() => ({
        ok: false,
        error: new AppError("POLL_NOT_FOUND", "no poll with this room code"),
      })),
    };
  if (poll.status !== "open")
    return {
      results: votes.map(() => ({ ok: false, error: new AppError("POLL_CLOSED", "this poll is closed") })),
    };

  const ids = [...new Set(votes.map((v) => v.participantId))];
  const existing = await tx.query<{ participant_id: string; option_position: number }>(
    "SELECT participant_id, option_position FROM votes WHERE poll_id = $1 AND participant_id = ANY($2::uuid[]) FOR UPDATE",
    [pollId, ids],
  );
  const initial = new Map(existing.map((r) => [r.participant_id, Number(r.option_position)]));
  const current = new Map(initial);
  const results: Result[] = votes.map((v) => {
    const prev = current.get(v.participantId);
    if (prev === undefined) {
      current.set(v.participantId, v.optionIndex);
      return { ok: true, outcome: "created" };
    }
    if (prev === v.optionIndex) return { ok: true, outcome: "unchanged" };
    if (!poll.allow_vote_change) {
      return {
        ok: false,
        error: new AppError("VOTE_CHANGE_NOT_ALLOWED", "this poll does not allow changing a vote"),
      };
    }
    current.set(v.participantId, v.optionIndex);
    return { ok: true, outcome: "changed" };
  });

  const changedIds: string[] = [];
  const changedOptions: number[] = [];
  const delta = new Map<number, number>();
  for (const [id, option] of current) {
    const before = initial.get(id);
    if (before === option) continue;
    changedIds.push(id);
    changedOptions.push(option);
    delta.set(option, (delta.get(option) ?? 0) + 1);
    if (before !== undefined) delta.set(before, (delta.get(before) ?? 0) - 1);
  }
  if (changedIds.length === 0) return { results };

  await tx.query(
    `INSERT INTO votes (poll_id, participant_id, option_position)
     SELECT $1, v.participant_id, v.option_position FROM unnest($2::uuid[], $3::smallint[]) AS v(participant_id, option_position)
     ON CONFLICT (poll_id, participant_id) DO UPDATE SET option_position = EXCLUDED.option_position, updated_at = now()`,
    [pollId, changedIds, changedOptions],
  );
  const deltas = [...delta].filter(([, d]) => d !== 0);
  if (deltas.length > 0) {
    await tx.query(
      `UPDATE poll_options o SET vote_count = o.vote_count + d.delta
       FROM unnest($2::smallint[], $3::int[]) AS d(position, delta)
       WHERE o.poll_id = $1 AND o.position = d.position`,
      [pollId, deltas.map(([p]) => p), deltas.map(([, d]) => d)],
    );
  }
  const version = await tx.query<{ results_version: number }>(
    "UPDATE polls SET results_version = results_version + 1 WHERE id = $1 RETURNING results_version",
    [pollId],
  );
  const snapshot = await readSnapshot(tx, pollId, poll.room_code, Number(version[0]?.results_version));
  snapshot.oldestVoteAt = Math.min(...votes.map((v) => v.receivedAt));
  return { results, snapshot };
}

/** (seq, counts, participants) of one poll as of one statement snapshot. */
export async function readSnapshot(
  q: Queryable,
  pollId: string,
  roomCode: string,
  knownSeq?: number,
): Promise<ResultsSnapshot> {
  const rows = await q.query<{ counts: number[] | string; participants: number; seq: number }>(
    `SELECT (SELECT json_agg(vote_count ORDER BY position) FROM poll_options WHERE poll_id = $1) AS counts,
            (SELECT count(*)::int FROM participants WHERE poll_id = $1) AS participants,
            (SELECT results_version FROM polls WHERE id = $1) AS seq`,
    [pollId],
  );
  const row = rows[0];
  const raw = row?.counts ?? [];
  const counts = (typeof raw === "string" ? (JSON.parse(raw) as number[]) : raw).map(Number);
  return {
    pollId,
    roomCode,
    seq: knownSeq ?? Number(row?.seq ?? 0),
    counts,
    total: counts.reduce((a, b) => a + b, 0),
    participants: Number(row?.participants ?? 0),
  };
}
