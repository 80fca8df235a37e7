import "vitest";
import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { type RedisCluster, redisClusterAvailable, startRedisCluster } from "./redis-cluster.js";
import {
  type PostgresServer,
  postgresAvailable,
  type RedisServer,
  redisAvailable,
  startPostgres,
  startRedis,
} from "./services.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string | null;
    redisUrl: string | null;
    /** REDIS_CLUSTER_NODES of a shared Redis Cluster (3 primaries, 1 replica each). */
    redisClusterNodes: string | null;
  }
}

interface Services {
  pg?: PostgresServer;
  redis?: RedisServer;
  redisCluster?: RedisCluster;
}

/**
 * Vitest calls a global setup once per project (and once for the root): the build and the services are made once
 * per run and shared, torn down when the last caller's teardown runs.
 */
const shared = globalThis as { zephyrServices?: Promise<Services>; zephyrServiceUsers?: number };

async function startServices(): Promise<Services> {
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
  const [pg, redis, redisCluster] = await Promise.all([
    postgresAvailable() ? startPostgres() : undefined,
    redisAvailable() ? startRedis() : undefined,
    redisClusterAvailable() ? startRedisCluster() : undefined,
  ]);
  return { pg, redis, redisCluster };
}

/**
 * One PostgreSQL, one Redis and one Redis Cluster shared by the suites that only read and write (each test uses its own polls),
 * and one compiled build so process-level tests run exactly what `npm start` runs.
 */
export default async function setup(project: TestProject) {
  shared.zephyrServices ??= startServices();
  shared.zephyrServiceUsers = (shared.zephyrServiceUsers ?? 0) + 1;
  const { pg, redis, redisCluster } = await shared.zephyrServices;
  project.provide("postgresUrl", pg?.url ?? null);
  project.provide("redisUrl", redis?.url ?? null);
  project.provide("redisClusterNodes", redisCluster?.nodes ?? null);
  return async () => {
    shared.zephyrServiceUsers = (shared.zephyrServiceUsers ?? 1) - 1;
    if (shared.zephyrServiceUsers > 0) return;
    await redis?.destroy();
    await redisCluster?.destroy();
    await pg?.destroy();
  };
}
