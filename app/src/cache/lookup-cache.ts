export interface LookupCache<V> {
  /** A fresh cached value, or the loader's (one load per key at a time, however many callers wait). */
  get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
  /** Stores a value learnt elsewhere (unless `keep` prefers what is cached). */
  set(key: string, value: V): void;
  forget(key: string): void;
}

/**
 * Short-lived memo for rows every vote, join or audience screen would otherwise read again: a poll by room
 * code, a participant by token hash, a poll's results. Only for data whose staleness is bounded or caught
 * anyway (zephyr_cast_votes re-checks the poll's status and existence in every batch; foreign keys catch a
 * deleted poll). Misses are not cached, so a poll created on another instance is found at once. ttlMs 0
 * turns it off.
 *
 * `keep(cached, incoming)` says when a cached value must not be replaced (results: a newer version), whether
 * the incoming one was loaded or set.
 */
export function createLookupCache<V>({
  ttlMs = 1000,
  maxEntries = 50_000,
  keep = () => false,
}: {
  ttlMs?: number;
  maxEntries?: number;
  keep?: (cached: V, incoming: V) => boolean;
} = {}): LookupCache<V> {
  const entries = new Map<string, { value: V; storedAt: number }>();
  const loading = new Map<string, Promise<V | undefined>>();

  /** Stores value unless keep() refuses; returns what the cache holds for key afterwards. */
  const store = (key: string, value: V): V => {
    const current = entries.get(key);
    if (current && keep(current.value, value)) return current.value;
    entries.delete(key); // re-insert: Map order doubles as oldest-stored first
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
    entries.set(key, { value, storedAt: Date.now() });
    return value;
  };

  return {
    async get(key, load) {
      if (ttlMs <= 0) return load();
      const hit = entries.get(key);
      if (hit && Date.now() - hit.storedAt < ttlMs) return hit.value;
      let pending = loading.get(key);
      if (!pending) {
        pending = load().finally(() => loading.delete(key));
        loading.set(key, pending);
      }
      const value = await pending;
      if (value === undefined) {
        entries.delete(key);
        return undefined;
      }
      return store(key, value);
    },
    set(key, value) {
      if (ttlMs > 0) store(key, value);
    },
    forget(key) {
      entries.delete(key);
    },
  };
}
