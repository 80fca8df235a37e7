import type { Redis } from "ioredis";
import type { RedisConfig } from "../config/index.js";
import type { Logger } from "../logging/index.js";
import type { Metrics } from "../metrics/index.js";
import { createRedisClient } from "./client.js";

export interface RedisConnections {
  /** Commands: rate limits, presence, relay publishes. */
  state: Redis;
  /** The Socket.IO adapter's pair. */
  adapterPub: Redis;
  adapterSub: Redis;
  /** The results relay's subscription. */
  relaySub: Redis;
  quit(): Promise<void>;
}

/** Every Redis connection of an instance, with zephyr_redis_up tracking whether all of them are ready. */
export function connectRedis(config: RedisConfig, logger: Logger, metrics: Metrics): RedisConnections {
  const make = (name: string, autoPipelining = false) =>
    createRedisClient(config, {
      name,
      logger,
      autoPipelining,
      onError: () => metrics.redisErrors.inc({ client: name }),
    });
  const clients = {
    // A crowd joining or voting at once calls the rate limiter once per action: pipelining what one event-loop
    // turn issues makes that one write to Redis instead of one per action (each write is a system call).
    state: make("state", true),
    adapterPub: make("adapter-pub"),
    adapterSub: make("adapter-sub"),
    relaySub: make("relay-sub"),
  };
  const all = Object.values(clients);
  const refresh = () => metrics.redisUp.set(all.every((c) => c.status === "ready") ? 1 : 0);
  for (const c of all) for (const ev of ["ready", "close", "end", "reconnecting"]) c.on(ev, refresh);
  refresh();
  return {
    ...clients,
    async quit() {
      await Promise.all(all.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
