import type { LoadBoard } from "../balance/index.js";
import type { RedisClient } from "./client.js";

// One hash for the fleet (one key: one slot on a cluster). Entries carry Redis's clock, so instances with skewed
// clocks agree on which entries are stale; an instance that died stops refreshing and drops out after staleMs.
const EXCHANGE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. now)
redis.call('PEXPIRE', KEYS[1], stale * 4)
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local sep = string.find(all[i + 1], ':', 1, true)
  local at = tonumber(string.sub(all[i + 1], sep + 1))
  if now - at > stale then redis.call('HDEL', KEYS[1], all[i])
  else out[#out + 1] = string.sub(all[i + 1], 1, sep - 1) end
end
return out`;

/** The fleet's connection counts in one Redis hash: field = instance id, value = `count:publishedAtMs`. */
export function createRedisLoadBoard(
  redis: RedisClient,
  { prefix, instanceId, staleMs }: { prefix: string; instanceId: string; staleMs: number },
): LoadBoard {
  const key = `${prefix}:load`;
  return {
    async exchange(connections) {
      const counts = (await redis.eval(EXCHANGE, 1, key, instanceId, connections, staleMs)) as string[];
      return counts.map(Number);
    },
    async leave() {
      await redis.hdel(key, instanceId);
    },
  };
}
