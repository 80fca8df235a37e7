import type { RedisConfig } from "../config/index.js";
import type { Logger } from "../logging/index.js";
import type { Metrics } from "../metrics/index.js";
import { connectRedis } from "./connections.js";
import { createRedisLoadBoard } from "./load-board.js";
import { createRedisPresenceStore } from "./presence-store.js";
import { createRedisRelay } from "./relay.js";
import { redisSocketAdapter } from "./socket-adapter.js";

export type Backplane = ReturnType<typeof redisBackplane>;

/**
 * What instances share through Redis (one server or a cluster), built on one set of connections: presence,
 * room news (the relay), the Socket.IO adapter, and the client the rate limits keep their counters with.
 */
export function redisBackplane(config: RedisConfig, logger: Logger, metrics: Metrics) {
  const redis = connectRedis(config, logger, metrics);
  const prefix = config.keyPrefix;
  const countError = (client: string) => () => metrics.redisErrors.inc({ client });
  return {
    /** Commands (rate limits): one connection per node, pipelined. */
    state: redis.state,
    presenceStore: createRedisPresenceStore(redis.state, { prefix }),
    relay: createRedisRelay({
      pub: redis.state,
      sub: redis.relaySub,
      // Versioned with the snapshot's shape and the channel layout: during a rolling update old and new
      // instances do not read each other's news; each heals its rooms from the database (resync) meanwhile.
      channelPrefix: `${prefix}:results:v3:`,
      sharded: redis.cluster,
      onError: countError("relay"),
      onReceived: (from) => metrics.relayMessagesReceived.inc({ from }),
      onPublished: () => metrics.relayMessagesPublished.inc(),
    }),
    socketAdapter: redisSocketAdapter({
      pub: redis.adapterPub,
      sub: redis.adapterSub,
      key: prefix,
      sharded: redis.cluster,
      metrics,
    }),
    /** The fleet's connection counts, for rebalancing. */
    loadBoard: (instanceId: string, staleMs: number) =>
      createRedisLoadBoard(redis.state, { prefix, instanceId, staleMs }),
    ping: async () => void (await redis.state.ping()),
    quit: () => redis.quit(),
  };
}
