export interface RateLimitDecision {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
}

/** Fixed-window counter keyed by e.g. "poll-create:<ip>". Redis-backed when several instances must share it. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
  /** True when the key is already over `limit` in its current window (checks without counting). */
  peek(key: string, limit: number): Promise<boolean>;
  close?(): Promise<void>;
}

export function createMemoryRateLimiter({ maxKeys = 100_000 }: { maxKeys?: number } = {}): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async hit(key, limit, windowMs) {
      const now = Date.now();
      let w = windows.get(key);
      if (!w || w.resetAt <= now) {
        // Bounded memory under a flood of distinct keys: expired windows go first, then the oldest.
        if (windows.size >= maxKeys) {
          for (const [k, v] of windows) if (v.resetAt <= now) windows.delete(k);
          if (windows.size >= maxKeys) windows.delete(windows.keys().next().value as string);
        }
        w = { count: 0, resetAt: now + windowMs };
        windows.set(key, w);
      }
      w.count++;
      const allowed = w.count <= limit;
      return {
        allowed,
        remaining: Math.max(0, limit - w.count),
        retryAfterMs: allowed ? 0 : w.resetAt - now,
      };
    },
    async peek(key, limit) {
      const w = windows.get(key);
      return Boolean(w && w.resetAt > Date.now() && w.count >= limit);
    },
  };
}
