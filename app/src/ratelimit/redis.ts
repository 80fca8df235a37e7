import type { Redis } from "ioredis";
import { createMemoryRateLimiter, type RateLimiter } from "./index.js";

// INCR and the first PEXPIRE in one step, so a crash between them cannot leave a key without expiry.
const SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/**
 * Shared fixed-window limits across instances. When Redis is slow or down the limiter falls back to a local
 * window instead of failing: votes must keep flowing through a Redis restart.
 */
export function createRedisRateLimiter(
  redis: Redis,
  {
    timeoutMs = 100,
    prefix = "zephyr:rl:",
    onFallback,
    peekCacheMs = 1000,
  }: { timeoutMs?: number; prefix?: string; peekCacheMs?: number; onFallback?: (err: unknown) => void } = {},
): RateLimiter {
  const local = createMemoryRateLimiter();
  // peek() guards every room-code lookup, the hottest reads; a Redis round trip each time would halve their
  // throughput. Answers are kept for peekCacheMs, and a key this instance sees going over its limit is
  // blocked here at once: another instance's block reaches this one within peekCacheMs.
  const peeked = new Map<string, { blocked: boolean; until: number }>();
  const remember = (key: string, blocked: boolean, forMs: number) => {
    if (peeked.size >= 50_000) peeked.delete(peeked.keys().next().value as string);
    peeked.set(key, { blocked, until: Date.now() + forMs });
  };
  return {
    async hit(key, limit, windowMs) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const res = (await Promise.race([
          redis.eval(SCRIPT, 1, prefix + key, String(windowMs)),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error("rate limiter timeout")), timeoutMs);
          }),
        ])) as [number, number];
        const [count, ttl] = res;
        const allowed = count <= limit;
        if (count >= limit) remember(key, true, Math.max(ttl, 1));
        return {
          allowed,
          remaining: Math.max(0, limit - count),
          retryAfterMs: allowed ? 0 : Math.max(ttl, 1),
        };
      } catch (err) {
        onFallback?.(err);
        return local.hit(key, limit, windowMs);
      } finally {
        clearTimeout(timer);
      }
    },
    async peek(key, limit) {
      const known = peeked.get(key);
      if (known && known.until > Date.now()) return known.blocked;
      try {
        const v = await Promise.race([
          redis.get(prefix + key),
          new Promise<null>((r) => setTimeout(r, timeoutMs, null)),
        ]);
        const blocked = v !== null && Number(v) >= limit;
        remember(key, blocked, peekCacheMs);
        return blocked;
      } catch {
        return local.peek(key, limit);
      }
    },
  };
}
