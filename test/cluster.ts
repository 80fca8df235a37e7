import { createDatabase } from "./services.js";
import { spawnZephyr, type ZephyrProcess } from "./zephyr.js";

/**
 * Settings of the multi-instance suites: per-address limits out of the way (their crowds come from one address),
 * and a short shutdown so a stopped instance is gone quickly.
 */
export const CLUSTER_ENV = {
  RATE_LIMIT_JOIN: "1000000",
  RATE_LIMIT_JOIN_POLLS: "1000000",
  RATE_LIMIT_VOTE: "1000000",
  RATE_LIMIT_ROOM_MISS: "1000000",
  RATE_LIMIT_POLL_CREATE: "1000000",
  BROADCAST_INTERVAL_MS: "100",
  SHUTDOWN_DELAY_MS: "200",
  DRAIN_WINDOW_MS: "1000",
  DB_POOL_SIZE: "10",
};

export interface Cluster {
  dbUrl: string;
  instances: ZephyrProcess[];
  /** SIGKILLs whatever still runs and waits for every exit. */
  stop(): Promise<void>;
}

/**
 * `n` compiled instances (pod-1 … pod-n) on a fresh database of the given PostgreSQL server. The first one
 * migrates; the others start together against the migrated schema.
 */
export async function startCluster(pgUrl: string, env: Record<string, string>, n = 3): Promise<Cluster> {
  const dbUrl = await createDatabase(pgUrl, "cluster");
  const spawn = (i: number) => spawnZephyr({ ...env, DATABASE_URL: dbUrl, INSTANCE_ID: `pod-${i}` });
  const instances = [await spawn(1)];
  instances.push(...(await Promise.all(Array.from({ length: n - 1 }, (_, i) => spawn(i + 2)))));
  return {
    dbUrl,
    instances,
    async stop() {
      for (const z of instances) if (z.child.exitCode === null) z.kill("SIGKILL");
      await Promise.all(instances.map((z) => z.exited));
    },
  };
}
