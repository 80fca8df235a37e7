import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { type RedisConfig, usesRedisCluster } from "../config/index.js";
import type { Logger } from "../logging/index.js";

/** One Redis server's connection or a Redis Cluster's: both run the same commands, keys routed by slot. */
export type RedisClient = Redis | Cluster;

/**
 * An ioredis client that never takes the process down: errors are logged (throttled) and counted, commands
 * fail fast while disconnected, and it reconnects with capped backoff by itself. With REDIS_CLUSTER_NODES it is
 * a Cluster client that follows slot moves and failovers (a replica promoted) by itself.
 */
export function createRedisClient(
  target: RedisConfig,
  {
    name,
    logger,
    onError,
    autoPipelining = false,
    shardedSubscriber = false,
  }: {
    name: string;
    logger: Logger;
    onError?: (err: Error) => void;
    /** Sends the commands issued in one event-loop turn as one write (ioredis enableAutoPipelining). */
    autoPipelining?: boolean;
    /** Cluster only: SSUBSCRIBE through one subscriber connection per primary, each channel on its slot's owner. */
    shardedSubscriber?: boolean;
  },
): RedisClient {
  const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 3000);
  // What every connection shares, a cluster's per-node ones included.
  const options = {
    connectionName: `zephyr-${name}`,
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    // A slow Redis must not hold a vote or a join: limits fall back to memory, presence retries next sync.
    commandTimeout: 1000,
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  } satisfies RedisOptions;
  let client: RedisClient;
  if (usesRedisCluster(target)) {
    const clusterOptions: ClusterOptions = {
      redisOptions: options,
      enableAutoPipelining: autoPipelining,
      enableOfflineQueue: true,
      clusterRetryStrategy: retryStrategy,
      // A primary that stops answering is replaced by its replica after cluster-node-timeout; until then its
      // slots answer CLUSTERDOWN or refuse connections, and commands are retried against the refreshed map.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 200,
      slotsRefreshTimeout: 2000,
      slotsRefreshInterval: 5000,
      // Replicas that restart without slot changes would otherwise stay disconnected until the next MOVED.
      clusterNodeRetryStrategy: retryStrategy,
      shardedSubscribers: shardedSubscriber,
    };
    client = new Cluster(
      (target.clusterNodes ?? []).map((node) => {
        const at = node.lastIndexOf(":");
        return { host: node.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(node.slice(at + 1)) };
      }),
      clusterOptions,
    );
  } else {
    const single: RedisOptions = {
      ...options,
      enableOfflineQueue: true,
      enableAutoPipelining: autoPipelining,
      retryStrategy,
    };
    client = target.url
      ? new Redis(target.url, single)
      : new Redis(target.port, target.host ?? "127.0.0.1", single);
  }
  let lastLog = 0;
  client.on("error", (err: Error) => {
    onError?.(err);
    const now = Date.now();
    if (now - lastLog > 5000) {
      lastLog = now;
      logger.warn(
        { client: name, err: { message: err.message, code: (err as { code?: string }).code } },
        "redis error",
      );
    }
  });
  return client;
}
