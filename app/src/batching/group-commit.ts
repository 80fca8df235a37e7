/** One item's fate in a batch: what its caller is resolved or rejected with. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface GroupCommit<I, O> {
  /** Resolves once the batch holding the item is committed (or rejects with why the item was refused). */
  submit(key: string, item: I): Promise<O>;
  /** Resolves when every item submitted so far is settled. */
  flush(): Promise<void>;
}

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

interface Queue<I, O> {
  pending: Array<Pending<I, O>>;
  inFlight: boolean;
  /** Cancels the open batch window, when there is one. */
  cancelWindow?: () => void;
}

/**
 * Group commit: items for one key (a poll) queue up while that key's previous batch is being written, then go
 * to the database together, so one transaction and one round trip carry them all. Each caller is settled only
 * after its batch commits, so an acknowledged write is durable. Votes and joins both arrive in bursts (a whole
 * room answers the same question, or scans the same QR code), which is exactly when batches grow.
 */
export function createGroupCommit<I, O>({
  write,
  maxBatch = 500,
  windowMs = 2,
  onBatch,
  onError,
}: {
  /** Writes one key's batch in one transaction: one result per item, in order. A throw rejects them all. */
  write: (key: string, items: I[]) => Promise<Array<Settled<O>>>;
  /** 1 = one transaction per item, concurrently (the naive design, for comparison). */
  maxBatch?: number;
  windowMs?: number;
  onBatch?: (size: number) => void;
  /** A batch whose write threw (its items are rejected with the error). */
  onError?: (err: unknown, key: string, size: number) => void;
}): GroupCommit<I, O> {
  const queues = new Map<string, Queue<I, O>>();
  const running = new Set<Promise<void>>();

  function track(p: Promise<void>) {
    running.add(p);
    p.finally(() => running.delete(p));
  }

  function schedule(key: string) {
    const q = queues.get(key);
    if (!q || q.inFlight || q.cancelWindow || q.pending.length === 0) return;
    if (q.pending.length >= maxBatch) {
      track(run(key));
      return;
    }
    // A burst shares one transaction if the first item waits a moment: starting at once would send it alone and
    // the rest after it (measured on votes: about 10 % fewer per second in the closed-loop benchmark).
    // windowMs 0 still waits for the rest of this event-loop turn, so items read from the network together stay
    // together; setTimeout(0) would be 1 ms in Node, setImmediate runs right after this turn's I/O callbacks.
    const fire = () => {
      q.cancelWindow = undefined;
      track(run(key));
    };
    if (windowMs > 0) {
      const t = setTimeout(fire, windowMs);
      q.cancelWindow = () => clearTimeout(t);
    } else {
      const i = setImmediate(fire);
      q.cancelWindow = () => clearImmediate(i);
    }
  }

  async function run(key: string) {
    const q = queues.get(key);
    if (!q || q.inFlight || q.pending.length === 0) return;
    const batch = q.pending.splice(0, maxBatch);
    q.inFlight = true;
    try {
      await writeAndSettle(key, batch);
    } finally {
      q.inFlight = false;
      // Items that arrived during the write have waited long enough: write them at once.
      if (q.pending.length > 0) track(run(key));
      else queues.delete(key);
    }
  }

  async function writeAndSettle(key: string, batch: Array<Pending<I, O>>) {
    onBatch?.(batch.length);
    try {
      const results = await write(
        key,
        batch.map((p) => p.item),
      );
      batch.forEach((p, i) => {
        const r = results[i];
        if (r?.ok) p.resolve(r.value);
        else p.reject(r ? r.error : new Error("batch write returned no result for an item"));
      });
    } catch (err) {
      onError?.(err, key, batch.length);
      for (const p of batch) p.reject(err);
    }
  }

  return {
    submit(key, item) {
      return new Promise<O>((resolve, reject) => {
        const pending = { item, resolve, reject };
        if (maxBatch === 1) {
          track(writeAndSettle(key, [pending]));
          return;
        }
        let q = queues.get(key);
        if (!q) {
          q = { pending: [], inFlight: false };
          queues.set(key, q);
        }
        q.pending.push(pending);
        schedule(key);
      });
    },
    async flush() {
      for (const [key, q] of queues) {
        if (q.cancelWindow) {
          q.cancelWindow();
          q.cancelWindow = undefined;
          track(run(key));
        }
      }
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
