import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { findTool, skipOrFail } from "./tools.js";

/**
 * Throwaway PostgreSQL and Redis servers for tests: real binaries on free loopback ports, data in temp
 * directories, torn down by the caller. Tests that stop or kill a service start their own instance.
 */

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

const PG_BIN_DIRS = [
  "/usr/lib/postgresql/15/bin",
  "/usr/lib/postgresql/16/bin",
  "/usr/lib/postgresql/17/bin",
];

function pgBinary(name: string): string | undefined {
  return findTool(
    name,
    PG_BIN_DIRS.map((d) => join(d, name)),
  );
}

export function postgresAvailable(): boolean {
  return Boolean(pgBinary("initdb") && pgBinary("pg_ctl"));
}

export function redisAvailable(): boolean {
  return Boolean(findTool("redis-server"));
}

/** Whether the suite can run: the servers are installed, or false after {@link skipOrFail}. */
export function requireServices(...names: Array<"postgres" | "redis">): boolean {
  const missing = names.filter((n) => (n === "postgres" ? !postgresAvailable() : !redisAvailable()));
  if (missing.length === 0) return true;
  skipOrFail(
    `required services not installed: ${missing.join(", ")}`,
    "run `make test`, which installs them",
  );
  return false;
}

// initdb and postgres refuse to run as root; CI runs as root, so drop to the packaged postgres user.
const asPostgresUser = process.getuid?.() === 0;
function runAs(cmd: string, args: string[]): [string, string[]] {
  return asPostgresUser ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

export interface PostgresServer {
  url: string;
  port: number;
  /** Fast shutdown; data kept so start() brings the same database back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A throwaway cluster. Tests run it with fsync off (nothing here must survive a power cut, and it is faster);
 * the benchmark asks for `durable: true`, PostgreSQL's default, because it reports durable votes/s.
 */
export async function startPostgres(
  opts: { database?: string; durable?: boolean } = {},
): Promise<PostgresServer> {
  const initdb = pgBinary("initdb");
  const pgCtl = pgBinary("pg_ctl");
  if (!initdb || !pgCtl) throw new Error("PostgreSQL binaries (initdb, pg_ctl) not found");
  const dir = mkdtempSync(join(tmpdir(), "zephyr-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const port = await freePort();
  const database = opts.database ?? "zephyr";
  const run = (cmd: string, args: string[]) => {
    const [c, a] = runAs(cmd, args);
    execFileSync(c, a, { stdio: "pipe" });
  };
  run(initdb, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"]);
  const start = async () => {
    run(pgCtl, [
      "-D",
      data,
      "-l",
      join(dir, "log"),
      "-w",
      "-t",
      "30",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${opts.durable ? "on" : "off"} -c max_connections=300`,
      "start",
    ]);
  };
  await start();
  const psql = pgBinary("psql") ?? "psql";
  run(psql, ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-c", `CREATE DATABASE ${database}`]);
  const server: PostgresServer = {
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    port,
    start,
    async stop() {
      run(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"]);
    },
    async destroy() {
      try {
        run(pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRedis(opts: { password?: string } = {}): Promise<RedisServer> {
  const bin = findTool("redis-server");
  if (!bin) throw new Error("redis-server not found");
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  if (opts.password) args.push("--requirepass", opts.password);
  const start = async () => {
    child = spawn(bin, args, { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await canConnect(port)) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not start on ${port}`);
      await sleep(50);
    }
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
  };
  await start();
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : "";
  return { url: `redis://${auth}127.0.0.1:${port}`, port, start, stop, destroy: stop };
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A fresh, empty database on an existing server; returns its URL. */
export async function createDatabase(serverUrl: string, prefix = "t"): Promise<string> {
  const { default: pg } = await import("pg");
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl.replace(/\/[^/]*$/, "/postgres") });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return serverUrl.replace(/\/[^/]*$/, `/${name}`);
}

/** Runs one query on a short-lived connection (for assertions straight against the database). */
export async function sql<R = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as R[];
  } finally {
    await client.end();
  }
}
