import { type RedisConfig, usesRedisCluster } from "../config/index.js";
import type { Logger } from "../logging/index.js";
import type { Metrics } from "../metrics/index.js";
import { createRedisClient, type RedisClient } from "./client.js";

export interface RedisConnections {
  /** Commands: rate limits, presence, relay publishes. */
  state: RedisClient;
  /** The Socket.IO adapter's pair. */
  adapterPub: RedisClient;
  adapterSub: RedisClient;
  /** The results relay's subscriptions. */
  relaySub: RedisClient;
  /** A Redis Cluster: pub/sub is sharded (SPUBLISH/SSUBSCRIBE), so each room's channel lives on one shard. */
  cluster: boolean;
  quit(): Promise<void>;
}

/** Every Redis connection of an instance, with zephyr_redis_up tracking whether all of them are ready. */
export function connectRedis(config: RedisConfig, logger: Logger, metrics: Metrics): RedisConnections {
  const cluster = usesRedisCluster(config);
  const make = (name: string, { autoPipelining = false, subscriber = false } = {}) =>
    createRedisClient(config, {
      name,
      logger,
      autoPipelining,
      shardedSubscriber: cluster && subscriber,
      onError: () => metrics.redisErrors.inc({ client: name }),
    });
  const clients = {
    // A crowd joining or voting at once calls the rate limiter once per action: pipelining what one event-loop
    // turn issues makes that one write to Redis instead of one per action (each write is a system call).
    state: make("state", { autoPipelining: true }),
    adapterPub: make("adapter-pub"),
    adapterSub: make("adapter-sub", { subscriber: true }),
    relaySub: make("relay-sub", { subscriber: true }),
  };
  const all = Object.values(clients);
  const refresh = () => metrics.redisUp.set(all.every((c) => c.status === "ready") ? 1 : 0);
  for (const c of all) for (const ev of ["ready", "close", "end", "reconnecting"]) c.on(ev, refresh);
  refresh();
  return {
    ...clients,
    cluster,
    async quit() {
      await Promise.all(all.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
