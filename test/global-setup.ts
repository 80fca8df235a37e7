import "vitest";
import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";
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
  }
}

/**
 * One PostgreSQL and one Redis shared by the suites that only read and write (each test uses its own polls),
 * and one compiled build so process-level tests run exactly what `npm start` runs.
 */
export default async function setup(project: TestProject) {
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
  let pg: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  if (postgresAvailable()) pg = await startPostgres();
  if (redisAvailable()) redis = await startRedis();
  project.provide("postgresUrl", pg?.url ?? null);
  project.provide("redisUrl", redis?.url ?? null);
  return async () => {
    await redis?.destroy();
    await pg?.destroy();
  };
}
