import { readdirSync, readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { sql } from "../../test/services.js";
import { cpuSeconds } from "./measure.js";
import { postgres, redisServer } from "./services.js";

/** What PostgreSQL and Redis did for an instance, read from their own statistics: the work behind a figure. */

export type Counters = Record<string, number>;

/** pg_stat_database of one database; backends flush it when they exit, so the last reading follows a stop. */
export async function databaseActivity(databaseUrl: string): Promise<Counters> {
  const [row] = await sql<Record<string, string>>(
    postgres().url,
    "SELECT xact_commit, tup_returned, tup_fetched, tup_inserted, blks_hit + blks_read AS blocks FROM pg_stat_database WHERE datname = $1",
    [databaseName(databaseUrl)],
  );
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));
}

/** CPU seconds the backends now connected to this database have used since they started. */
export async function databaseBackendCpuSeconds(databaseUrl: string): Promise<number> {
  const rows = await sql<{ pid: number }>(
    postgres().url,
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    [databaseName(databaseUrl)],
  );
  return rows.reduce((a, r) => a + (cpuSeconds(r.pid) || 0), 0);
}

const databaseName = (url: string) => new URL(url).pathname.slice(1);

const statFields = (pid: number | string) =>
  readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];

/**
 * CPU seconds of the whole PostgreSQL server: the postmaster and its live processes, plus what its exited
 * children used (the kernel adds a reaped child's time to its parent's cutime/cstime). Robust to pool connections
 * that close during a measurement, which per-backend sums are not.
 */
export async function postgresServerCpuSeconds(): Promise<number> {
  // The checkpointer lives as long as the server, so its parent is the postmaster.
  const [row] = await sql<{ pid: number }>(
    postgres().url,
    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'",
  );
  const postmaster = Number(statFields(row?.pid as number)[1]);
  const own = statFields(postmaster);
  let total = [11, 12, 13, 14].reduce((a, i) => a + Number(own[i]), 0) / 100;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (Number(statFields(pid)[1]) === postmaster) total += cpuSeconds(Number(pid)) || 0;
    } catch {
      // exited while we looked: its time is in the postmaster's cutime by now
    }
  }
  return total;
}

/** Calls per command and the CPU seconds of the whole Redis server. */
export async function redisActivity(): Promise<{ commands: Counters; cpuSeconds: number }> {
  const redis = new Redis(redisServer().url);
  try {
    const stats = await redis.info("commandstats");
    const cpu = await redis.info("cpu");
    const used = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, "m").exec(cpu)?.[1] ?? 0);
    return {
      commands: Object.fromEntries(
        [...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)]
          // INFO is the harness's own reading (and ioredis's ready check), not the service's work.
          .filter((m) => m[1] !== "info")
          .map((m) => [m[1] as string, Number(m[2])]),
      ),
      cpuSeconds: used("used_cpu_user") + used("used_cpu_sys"),
    };
  } finally {
    redis.disconnect();
  }
}

/** after - before per unit (e.g. per join), two decimals, counters that did not move left out. */
export const perUnit = (before: Counters, after: Counters, units: number): Counters =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, Math.round((100 * (v - (before[k] ?? 0))) / Math.max(1, units)) / 100] as const)
      .filter(([, v]) => v > 0),
  );
