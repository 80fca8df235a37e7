import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import type { Metrics } from "../metrics/index.js";
import type { RedisClient } from "./client.js";

/**
 * The Socket.IO Redis adapter (rooms and broadcasts across instances): on a Redis Cluster the sharded one
 * (Redis 7 SPUBLISH/SSUBSCRIBE, a channel per room, subscribed only where the room has members), else the
 * classic one. The adapters publish without handling the returned promise; while Redis is down ioredis rejects
 * those (after its retries) and each rejection would be unhandled. Failed publishes are counted and dropped:
 * the results resync heals whatever they carried.
 */
export function redisSocketAdapter({
  pub,
  sub,
  key,
  sharded,
  metrics,
}: {
  pub: RedisClient;
  sub: RedisClient;
  key: string;
  sharded: boolean;
  metrics: Metrics;
}) {
  const method = sharded ? "spublish" : "publish";
  const publish = pub[method].bind(pub) as (...args: unknown[]) => Promise<number>;
  const guarded = (...args: unknown[]) =>
    publish(...args).catch(() => {
      metrics.redisErrors.inc({ client: "adapter-publish" });
      return 0;
    });
  const safePub = new Proxy(pub, {
    get: (target, prop, receiver) => (prop === method ? guarded : Reflect.get(target, prop, receiver)),
  });
  return sharded
    ? createShardedAdapter(safePub, sub, { channelPrefix: key, subscriptionMode: "dynamic" })
    : createAdapter(safePub, sub, { key, requestsTimeout: 3000 });
}
