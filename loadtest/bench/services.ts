import {
  type PostgresServer,
  type RedisServer,
  sql,
  startPostgres,
  startRedis,
} from "../../test/services.js";
import { onCleanup } from "./processes.js";

/** One PostgreSQL and one Redis for the whole run; each instance gets a fresh database on that server. */

let pg: PostgresServer | undefined;
let redis: RedisServer | undefined;

function need<T>(v: T | undefined): T {
  if (v === undefined) throw new Error("service not started");
  return v;
}

export const postgres = (): PostgresServer => need(pg);
export const redisServer = (): RedisServer => need(redis);

export async function startServices(): Promise<void> {
  onCleanup(stopServices);
  // Durable like a production database: the report gives durable votes/s.
  pg = await startPostgres({ durable: true });
  redis = await startRedis();
}

async function stopServices() {
  // Say so when a service cannot be stopped: a silent failure would leave a PostgreSQL running behind us.
  await redis?.destroy().catch((e) => console.error("bench: could not stop redis:", e));
  await pg?.destroy().catch((e) => console.error("bench: could not stop postgres:", e));
  redis = undefined;
  pg = undefined;
}

export async function postgresVersion(): Promise<string> {
  const rows = await sql<{ v: string }>(postgres().url, "select version() as v");
  return (rows[0]?.v ?? "?").split(" on ")[0] as string;
}
