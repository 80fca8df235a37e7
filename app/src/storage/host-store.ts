import type { ResultsSnapshot } from "../domain/poll.js";
import type { AnswerStatus, HostStore } from "../usecases/ports.js";
import type { Database, Queryable } from "./database.js";
import { type ResultsJson, snapshotOf } from "./results-store.js";

async function lockedNextVersion(tx: Queryable, pollId: string): Promise<number | undefined> {
  const rows = await tx.query<{ seq: number }>(
    "UPDATE polls SET results_version = results_version + 1, updated_at = now(), last_activity_at = now() WHERE id = $1 RETURNING results_version AS seq",
    [pollId],
  );
  return rows[0] ? Number(rows[0].seq) : undefined;
}

/** The question's results as of this transaction: the snapshot the action publishes. */
async function snapshotIn(tx: Queryable, pollId: string, index: number): Promise<ResultsSnapshot> {
  const [row] = await tx.query<{ room_code: string; results: ResultsJson | string }>(
    "SELECT room_code, zephyr_question_results(id, $2::smallint) AS results FROM polls WHERE id = $1",
    [pollId, index],
  );
  const results = typeof row?.results === "string" ? JSON.parse(row.results) : row?.results;
  return snapshotOf(pollId, row?.room_code ?? "", results as ResultsJson);
}

/**
 * What the presenter changes. Each takes the poll row lock first, as answer batches do, so it falls cleanly
 * between two batches on every instance, and each advances the results version so its snapshot is newer than any
 * before it.
 */
export function createHostStore(db: Database): HostStore {
  return {
    activateQuestion: (pollId, index) =>
      db
        .transaction(async (tx) => {
          if ((await lockedNextVersion(tx, pollId)) === undefined) return false;
          const rows = await tx.query(
            "UPDATE polls SET active_question = $2 WHERE id = $1 AND EXISTS (SELECT 1 FROM questions WHERE poll_id = $1 AND position = $2) RETURNING id",
            [pollId, index],
          );
          if (rows.length === 0) throw new MissingQuestion();
          return snapshotIn(tx, pollId, index);
        })
        .catch(falseWhenMissing),

    setResultsHidden: (pollId, index, hidden) =>
      db
        .transaction(async (tx) => {
          if ((await lockedNextVersion(tx, pollId)) === undefined) return false;
          const rows = await tx.query(
            "UPDATE questions SET results_hidden = $3 WHERE poll_id = $1 AND position = $2 RETURNING position",
            [pollId, index, hidden],
          );
          if (rows.length === 0) throw new MissingQuestion();
          return snapshotIn(tx, pollId, index);
        })
        .catch(falseWhenMissing),

    moderateAnswer: (pollId, index, answerId, action) =>
      db.transaction(async (tx) => {
        const [locked] = await tx.query("SELECT id FROM polls WHERE id = $1 FOR UPDATE", [pollId]);
        if (!locked) return "missing" as const;
        const [answer] = await tx.query<{ status: AnswerStatus }>(
          "SELECT status FROM open_answers WHERE id = $3 AND poll_id = $1 AND question_position = $2",
          [pollId, index, answerId],
        );
        if (!answer) return "missing" as const;
        const next = action === "approve" ? "shown" : "removed";
        // A removed answer stays removed; approving a shown one changes nothing.
        if (answer.status === "removed" || answer.status === next) return { status: answer.status };
        await tx.query("UPDATE open_answers SET status = $2 WHERE id = $1", [answerId, next]);
        const delta = next === "shown" ? 1 : answer.status === "shown" ? -1 : 0;
        if (delta !== 0)
          await tx.query(
            "UPDATE questions SET shown_count = shown_count + $3 WHERE poll_id = $1 AND position = $2",
            [pollId, index, delta],
          );
        await lockedNextVersion(tx, pollId);
        return { status: next, snapshot: await snapshotIn(tx, pollId, index) };
      }),
  };
}

/** Rolls the transaction back (the version bump with it) when the question turned out not to exist. */
class MissingQuestion extends Error {}
const falseWhenMissing = (err: unknown): false => {
  if (err instanceof MissingQuestion) return false;
  throw err;
};
