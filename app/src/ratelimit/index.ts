import type { Cluster, Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import type { LimitDecision, LimitRule, Limits } from "../usecases/ports.js";

export interface LimitRuleSettings {
  points: number;
  windowMs: number;
}

export type LimitRules = Record<LimitRule, LimitRuleSettings>;

/**
 * The use cases' limits on rate-limiter-flexible: fixed windows shared through Redis by every instance, with an
 * in-memory insurance limiter per instance that takes over while Redis is unreachable (votes must keep
 * flowing through a Redis restart). Windows are whole seconds (Redis EX). `blockedFor` guards every room-code
 * lookup, the hottest path, so its answer is kept for `peekCacheMs`; a key seen going over its limit here is
 * blocked here at once.
 */
export function createLimits({
  rules,
  redis,
  prefix = "zephyr:rl",
  onFallback,
  peekCacheMs = 1000,
}: {
  rules: LimitRules;
  /** While it is not ready (rejectIfRedisNotReady) or a command times out, the insurance limiter answers. */
  redis?: Redis | Cluster;
  prefix?: string;
  onFallback?: () => void;
  peekCacheMs?: number;
}): Limits {
  const limiters = new Map<LimitRule, RateLimiterAbstract>();
  for (const [rule, { points, windowMs }] of Object.entries(rules) as Array<[LimitRule, LimitRuleSettings]>) {
    const options = {
      points,
      duration: Math.max(1, Math.ceil(windowMs / 1000)),
      keyPrefix: `${prefix}:${rule}`,
    };
    const memory = new RateLimiterMemory(options);
    limiters.set(
      rule,
      redis
        ? new RateLimiterRedis({
            ...options,
            storeClient: redis,
            rejectIfRedisNotReady: true,
            insuranceLimiter: countingInsurance(memory, onFallback),
          })
        : memory,
    );
  }
  const limiterOf = (rule: LimitRule) => limiters.get(rule) as RateLimiterAbstract;

  const peeked = new Map<string, { blockedUntil: number; checkAgainAt: number }>();
  const remember = (key: string, blockedForMs: number, forMs: number) => {
    if (peeked.size >= 50_000) peeked.delete(peeked.keys().next().value as string);
    const now = Date.now();
    peeked.set(key, { blockedUntil: now + blockedForMs, checkAgainAt: now + forMs });
  };

  return {
    async consume(rule, key): Promise<LimitDecision> {
      try {
        const res = await limiterOf(rule).consume(key);
        if (res.consumedPoints >= rules[rule].points)
          remember(`${rule}|${key}`, res.msBeforeNext, res.msBeforeNext);
        return { allowed: true, consumed: res.consumedPoints, retryAfterMs: 0 };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        remember(`${rule}|${key}`, rejection.msBeforeNext, rejection.msBeforeNext);
        return {
          allowed: false,
          consumed: rejection.consumedPoints,
          retryAfterMs: Math.max(1, rejection.msBeforeNext),
        };
      }
    },
    async refund(rule, key) {
      await limiterOf(rule)
        .reward(key, 1)
        .catch(() => undefined);
      peeked.delete(`${rule}|${key}`);
    },
    async blockedFor(rule, key) {
      const memoKey = `${rule}|${key}`;
      const known = peeked.get(memoKey);
      const now = Date.now();
      if (known && known.checkAgainAt > now) return Math.max(0, known.blockedUntil - now);
      const res = await limiterOf(rule).get(key);
      const blockedForMs =
        res && res.consumedPoints >= rules[rule].points ? Math.max(1, res.msBeforeNext) : 0;
      remember(memoKey, blockedForMs, blockedForMs > 0 ? blockedForMs : peekCacheMs);
      return blockedForMs;
    },
  };
}

/** The memory limiter as insurance, counting each time it has to stand in for Redis. */
function countingInsurance(memory: RateLimiterMemory, onFallback?: () => void): RateLimiterMemory {
  if (!onFallback) return memory;
  for (const method of ["consume", "get", "reward", "penalty"] as const) {
    const original = memory[method].bind(memory) as (...args: unknown[]) => Promise<unknown>;
    (memory as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      onFallback();
      return original(...args);
    };
  }
  return memory;
}
