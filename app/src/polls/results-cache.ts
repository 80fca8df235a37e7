import type { Results } from "./service.js";

export interface VersionedResults extends Results {
  seq: number;
}

export interface ResultsCache {
  /** Fresh cached results, or the loader's (one load per code at a time, however many requests wait). */
  get(roomCode: string, load: () => Promise<VersionedResults | undefined>): Promise<Results | undefined>;
  /** A committed snapshot (this instance's or another's): newer ones replace what is cached. */
  offer(snapshot: VersionedResults): void;
  forget(roomCode: string): void;
}

/**
 * Results are the hottest read (every audience screen polls them), and every committed vote batch already
 * tells each instance the new counts. Snapshots keep entries current; the TTL bounds staleness when a
 * notification is lost (Redis outage) and a remote deletion. A vote acknowledged by this instance is in the
 * cache before its ack is sent, so a voter always reads its own vote here.
 */
export function createResultsCache({
  ttlMs = 250,
  maxEntries = 10_000,
}: {
  ttlMs?: number;
  maxEntries?: number;
} = {}): ResultsCache {
  const entries = new Map<string, { value: VersionedResults; storedAt: number }>();
  const loading = new Map<string, Promise<VersionedResults | undefined>>();

  const store = (value: VersionedResults) => {
    const current = entries.get(value.roomCode);
    if (current && current.value.seq > value.seq) return;
    entries.delete(value.roomCode); // re-insert: Map order doubles as least-recently-stored first
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
    entries.set(value.roomCode, { value, storedAt: Date.now() });
  };
  const strip = ({ roomCode, counts, total }: VersionedResults): Results => ({ roomCode, counts, total });

  return {
    async get(roomCode, load) {
      if (ttlMs <= 0) {
        const v = await load();
        return v && strip(v);
      }
      const hit = entries.get(roomCode);
      if (hit && Date.now() - hit.storedAt < ttlMs) return strip(hit.value);
      let pending = loading.get(roomCode);
      if (!pending) {
        pending = load().finally(() => loading.delete(roomCode));
        loading.set(roomCode, pending);
      }
      const v = await pending;
      if (!v) {
        entries.delete(roomCode);
        return undefined;
      }
      store(v);
      return strip(entries.get(roomCode)?.value ?? v);
    },
    offer(snapshot) {
      if (ttlMs > 0) store(snapshot);
    },
    forget(roomCode) {
      entries.delete(roomCode);
    },
  };
}
