import { createLookupCache } from "./lookup-cache.js";
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
  const cache = createLookupCache<VersionedResults>({
    ttlMs,
    maxEntries,
    keep: (cached, incoming) => cached.seq > incoming.seq,
  });
  const strip = ({ roomCode, counts, total }: VersionedResults): Results => ({ roomCode, counts, total });

  return {
    async get(roomCode, load) {
      const v = await cache.get(roomCode, load);
      return v && strip(v);
    },
    offer(snapshot) {
      cache.set(snapshot.roomCode, snapshot);
    },
    forget(roomCode) {
      cache.forget(roomCode);
    },
  };
}
