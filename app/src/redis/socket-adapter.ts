import { createAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import type { Metrics } from "../metrics/index.js";

/**
 * The Socket.IO Redis adapter (rooms and broadcasts across instances). The adapter publishes without handling
 * the returned promise; while Redis is down ioredis rejects those (after its retries) and each rejection would
 * be unhandled. Failed publishes are counted and dropped: the results resync heals whatever they carried.
 */
export function redisSocketAdapter({
  pub,
  sub,
  key,
  metrics,
}: {
  pub: Redis;
  sub: Redis;
  key: string;
  metrics: Metrics;
}) {
  const publish = pub.publish.bind(pub) as (...args: unknown[]) => Promise<number>;
  const guarded = (...args: unknown[]) =>
    publish(...args).catch(() => {
      metrics.redisErrors.inc({ client: "adapter-publish" });
      return 0;
    });
  const safePub = new Proxy(pub, {
    get: (target, prop, receiver) => (prop === "publish" ? guarded : Reflect.get(target, prop, receiver)),
  });
  return createAdapter(safePub, sub, { key, requestsTimeout: 3000 });
}
