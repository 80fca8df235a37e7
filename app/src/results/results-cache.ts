import { createLookupCache } from "../cache/lookup-cache.js";

export interface VersionedResults {
  roomCode: string;
  seq: number;
  /** Only grows within one version: joins add participants without changing the results version. */
  participants: number;
}

export interface ResultsCache<V extends VersionedResults = VersionedResults> {
  /** Fresh cached results, or the loader's (one load per code at a time, however many requests wait). */
  get(roomCode: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
  /** A committed snapshot (this instance's or another's): newer ones replace what is cached. */
  offer(snapshot: V): void;
  forget(roomCode: string): void;
}

/**
 * Results are the hottest read (every audience screen polls them), and every committed vote batch already
 * tells each instance the new counts. Snapshots keep entries current; the TTL bounds staleness when a
 * notification is lost (Redis outage) and a remote deletion. A vote acknowledged by this instance is in the
 * cache before its ack is sent, so a voter always reads its own vote here.
 */
export function createResultsCache<V extends VersionedResults = VersionedResults>({
  ttlMs = 250,
  maxEntries = 10_000,
}: {
  ttlMs?: number;
  maxEntries?: number;
} = {}): ResultsCache<V> {
  const cache = createLookupCache<V>({
    ttlMs,
    maxEntries,
    keep: (cached, incoming) =>
      cached.seq > incoming.seq ||
      (cached.seq === incoming.seq && cached.participants > incoming.participants),
  });
  return {
    get: (roomCode, load) => cache.get(roomCode, load),
    offer: (snapshot) => cache.set(snapshot.roomCode, snapshot),
    forget: (roomCode) => cache.forget(roomCode),
  };
}
