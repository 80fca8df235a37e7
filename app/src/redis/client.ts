import { Redis, type RedisOptions } from "ioredis";
import type { RedisConfig } from "../config/index.js";
import type { Logger } from "../logging/index.js";

/**
 * An ioredis client that never takes the process down: errors are logged (throttled) and counted, commands
 * fail fast while disconnected, and it reconnects with capped backoff by itself.
 */
export function createRedisClient(
  target: RedisConfig,
  {
    name,
    logger,
    onError,
    autoPipelining = false,
  }: {
    name: string;
    logger: Logger;
    onError?: (err: Error) => void;
    /** Sends the commands issued in one event-loop turn as one write (ioredis enableAutoPipelining). */
    autoPipelining?: boolean;
  },
): Redis {
  const options: RedisOptions = {
    connectionName: `zephyr-${name}`,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 3000,
    // A slow Redis must not hold a vote or a join: limits fall back to memory, presence retries next sync.
    commandTimeout: 1000,
    enableAutoPipelining: autoPipelining,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 3000),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
  const client = target.url
    ? new Redis(target.url, options)
    : new Redis(target.port, target.host ?? "127.0.0.1", options);
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
