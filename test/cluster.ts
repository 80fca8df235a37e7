import { createDatabase } from "./services.js";
import { spawnZephyr, type ZephyrProcess } from "./zephyr.js";

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
