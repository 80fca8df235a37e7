import { createGroupCommit } from "../batching/group-commit.js";
import { isAppError } from "../domain/errors.js";
import type { ResultsSnapshot, VoteOutcome } from "../domain/poll.js";
import type { Logger } from "../logging/index.js";
import type { ResultsStore } from "../storage/results-store.js";
import type { AnswerRequest, AnswerSubmitter } from "../usecases/ports.js";

export interface VoteWriter extends AnswerSubmitter {
  /** Resolves when every vote submitted so far is committed or rejected. */
  flush(): Promise<void>;
}

export interface VoteWriterOptions {
  store: Pick<ResultsStore, "castBatch">;
  /** Where every committed snapshot goes (the results module): the one way out of the writer. */
  results: { committed(snapshot: ResultsSnapshot): void };
  logger: Logger;
  /** 1 = one transaction per vote (the naive design, for comparison). */
  maxBatch?: number;
  windowMs?: number;
  onBatch?: (size: number) => void;
}

/**
 * Answers to one question go to PostgreSQL in one statement per batch (group commit), so one counter update per
 * option or word, not per answer; every question type is written this way. The snapshot reaches the results module before any voter of the batch is acked, so a
 * voter always finds its vote in the results cache.
 */
export function createVoteWriter({
  store,
  results: sink,
  logger,
  maxBatch = 500,
  windowMs = 2,
  onBatch,
}: VoteWriterOptions): VoteWriter {
  const commit = createGroupCommit<AnswerRequest, VoteOutcome>({
    maxBatch,
    windowMs,
    onBatch,
    write: async (_key, votes) => {
      const { pollId, questionIndex } = votes[0] as AnswerRequest;
      const { results, snapshot } = await store.castBatch(pollId, questionIndex, votes);
      if (snapshot) sink.committed(snapshot);
      return results.map((r) => (r.ok ? { ok: true, value: r.outcome } : { ok: false, error: r.error }));
    },
    onError: (err, key, size) => {
      if (!isAppError(err)) logger.error({ err, poll: key, votes: size }, "vote batch failed");
    },
  });
  // One batch holds answers to one question (the cast takes one, of one type), so a batch never straddles an
  // activation.
  return {
    submit: (vote) => commit.submit(`${vote.pollId}/${vote.questionIndex}`, vote),
    flush: commit.flush,
  };
}
