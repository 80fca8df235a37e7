import type { Logger } from "../logging/index.js";
import type { Database } from "../storage/database.js";

// Any fixed number distinct from the migration lock: only one instance deletes at a time.
export const RETENTION_LOCK_KEY = 7_349_002;

export interface Retention {
  /** One pass: deletes expired polls in batches until none is left; returns how many this instance deleted. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The retention policy: a poll, its participants and its answers are deleted `retentionMs` after the poll's last
 * activity (creation, join, vote, status change). Each batch is its own short transaction under a
 * transaction-level advisory lock, so one instance deletes while the others skip, and live polls' votes never
 * wait behind a long delete.
 */
export function createRetention({
  db,
  logger,
  retentionMs,
  sweepMs,
  batchSize = 20,
  onDeleted,
}: {
  db: Database;
  logger: Logger;
  retentionMs: number;
  /** 0 = no periodic sweep (sweep() can still be called). */
  sweepMs: number;
  batchSize?: number;
  onDeleted?: (count: number) => void;
}): Retention {
  async function batch(): Promise<number | "locked"> {
    return db.transaction(async (tx) => {
      const [lock] = await tx.query<{ locked: boolean }>("SELECT pg_try_advisory_xact_lock($1) AS locked", [
        RETENTION_LOCK_KEY,
      ]);
      if (!lock?.locked) return "locked" as const;
      const rows = await tx.query(
        `DELETE FROM polls WHERE id IN (
           SELECT id FROM polls WHERE last_activity_at < now() - make_interval(secs => $1::double precision / 1000)
           ORDER BY last_activity_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [retentionMs, batchSize],
      );
      return rows.length;
    });
  }

  let running: Promise<number> | undefined;
  const sweep = () => {
    running ??= (async () => {
      let total = 0;
      for (;;) {
        const n = await batch();
        if (n === "locked" || n === 0) break;
        total += n;
        onDeleted?.(n);
        if (n < batchSize) break;
      }
      if (total > 0) logger.info({ deleted: total }, "retention: expired polls deleted");
      return total;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer =
    sweepMs > 0
      ? setInterval(() => {
          sweep().catch((err) =>
            logger.warn({ err: { message: (err as Error).message } }, "retention sweep failed"),
          );
        }, sweepMs)
      : undefined;
  timer?.unref();

  return {
    sweep,
    async close() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
