import type { PresenceStore } from "../presence/index.js";
import type { RedisClient } from "./client.js";

// One key per poll, so a script never spans hash slots (Redis Cluster). Expiries use the server's clock, so
// instances with skewed clocks agree on who has timed out.
const SYNC = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
for i = 3, 2 + n do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
for i = 3 + n, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if n > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return redis.call('ZCARD', KEYS[1])`;

const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`;

/** A sorted set per poll: member = participant id, score = when it stops counting unless refreshed. */
export function createRedisPresenceStore(redis: RedisClient, { prefix = "zephyr" } = {}): PresenceStore {
  const key = (pollId: string) => `${prefix}:presence:{${pollId}}`;
  return {
    async sync(pollId, present, absent, ttlMs) {
      const n = await redis.eval(SYNC, 1, key(pollId), ttlMs, present.length, ...present, ...absent);
      return Number(n);
    },
    async count(pollId) {
      return Number(await redis.eval(COUNT, 1, key(pollId)));
    },
  };
}
