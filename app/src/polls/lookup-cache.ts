export interface LookupCache<V> {
  /** A fresh cached value, or the loader's (one load per key at a time, however many callers wait). */
  get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
  forget(key: string): void;
}

/**
 * Short-lived memo for rows every vote and join would otherwise read again: a poll by room code, a participant
 * by token hash. Only for data whose staleness the database catches anyway (zephyr_cast_votes re-checks the
 * poll's status and existence in every batch; foreign keys catch a deleted poll). Misses are not cached, so
 * a poll created on another instance is found at once. ttlMs 0 turns it off.
 */
export function createLookupCache<V>({
  ttlMs = 1000,
  maxEntries = 50_000,
}: {
  ttlMs?: number;
  maxEntries?: number;
} = {}): LookupCache<V> {
  const entries = new Map<string, { value: V; storedAt: number }>();
  const loading = new Map<string, Promise<V | undefined>>();

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
      entries.delete(key); // re-insert: Map order doubles as oldest-stored first
      if (value === undefined) return undefined;
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, { value, storedAt: Date.now() });
      return value;
    },
    forget(key) {
      entries.delete(key);
    },
  };
}
