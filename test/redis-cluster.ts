import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { inject } from "vitest";
import { freePort } from "./services.js";
import { findTool } from "./tools.js";

const run = promisify(execFile);

/**
 * A real Redis Cluster on loopback: `redis-server --cluster-enabled yes` processes joined by
 * `redis-cli --cluster create`, 3 primaries with one replica each by default. A short cluster-node-timeout makes
 * a killed primary's replica take over in a few seconds, as it would in minutes with production settings.
 */
export interface RedisCluster {
  /** REDIS_CLUSTER_NODES: every node, `127.0.0.1:port,…`. */
  nodes: string;
  ports: number[];
  /** The primary serving a key's (or channel's) hash slot right now. */
  primaryOf(key: string): Promise<number>;
  /** Primaries and the slot count each serves, read from a live node. */
  primaries(): Promise<number[]>;
  /** SIGKILL of one node, as a crashed pod; resolves once the process is gone. */
  kill(port: number): Promise<void>;
  /** Resolves when every slot is served again (a replica promoted), with the new owner of `key`. */
  waitForFailover(key: string, oldPrimary: number, timeoutMs?: number): Promise<number>;
  /** Runs one command on one node. */
  command(port: number, ...args: Array<string | number>): Promise<unknown>;
  destroy(): Promise<void>;
}

export function redisClusterAvailable(): boolean {
  return Boolean(findTool("redis-server") && findTool("redis-cli"));
}

export async function startRedisCluster({
  primaries = 3,
  replicasPerPrimary = 1,
  nodeTimeoutMs = 1500,
  password,
}: {
  primaries?: number;
  replicasPerPrimary?: number;
  nodeTimeoutMs?: number;
  password?: string;
} = {}): Promise<RedisCluster> {
  const server = findTool("redis-server");
  const cli = findTool("redis-cli");
  if (!server || !cli) throw new Error("redis-server and redis-cli are needed for a Redis Cluster");
  const dir = mkdtempSync(join(tmpdir(), "zephyr-redis-cluster-"));
  const count = primaries * (1 + replicasPerPrimary);
  const children = new Map<number, ChildProcess>();
  const ports: number[] = [];
  // Ports are picked free and then bound by redis-server a moment later: another suite (or this cluster's own
  // bus port) may take one in between, and that server exits at once. Every port here is distinct, and a server
  // that exits is started again on new ports.
  const taken = new Set<number>();
  const distinctFreePort = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const spawnNode = (port: number, busPort: number) => {
    const args = [
      "--port",
      String(port),
      "--cluster-port",
      String(busPort),
      "--bind",
      "127.0.0.1",
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      join(dir, `nodes-${port}.conf`),
      "--cluster-node-timeout",
      String(nodeTimeoutMs),
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      ...(password ? ["--requirepass", password, "--masterauth", password] : []),
    ];
    const child = spawn(server, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-2000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    return { child, output: () => output };
  };
  const clients = new Map<number, Redis>();
  const client = (port: number) => {
    let c = clients.get(port);
    if (!c) {
      c = new Redis(port, "127.0.0.1", {
        lazyConnect: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        // A port another process took before redis-server could bind it may accept and never answer.
        commandTimeout: 5000,
        ...(password ? { password } : {}),
      });
      c.on("error", () => undefined);
      clients.set(port, c);
    }
    return c;
  };
  const command = async (port: number, ...args: Array<string | number>) => {
    const c = client(port);
    if (c.status === "end") clients.delete(port);
    return client(port).call(String(args[0]), ...args.slice(1).map(String));
  };
  // A killed process has a signalCode and no exitCode.
  const running = (c: ChildProcess | undefined) =>
    c !== undefined && c.exitCode === null && c.signalCode === null;
  const alive = () => ports.filter((p) => running(children.get(p)));

  const destroy = async () => {
    for (const c of clients.values()) c.disconnect();
    await Promise.all(
      [...children.values()].map(async (c) => {
        if (!running(c)) return;
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGKILL");
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  const startNode = async () => {
    for (let attempt = 1; ; attempt++) {
      const port = await distinctFreePort();
      const node = spawnNode(port, await distinctFreePort());
      children.set(port, node.child);
      const deadline = Date.now() + 30_000;
      for (;;) {
        if ((await command(port, "PING").catch(() => "")) === "PONG") return port;
        if (!running(node.child)) break;
        if (Date.now() > deadline)
          throw new Error(
            `redis-server did not answer on ${port} within 30 s:\n${node.output().slice(-800)}`,
          );
        await sleep(50);
      }
      children.delete(port);
      if (attempt === 5)
        throw new Error(`redis-server exited on port ${port}:\n${node.output().slice(-800)}`);
    }
  };

  try {
    for (let i = 0; i < count; i++) ports.push(await startNode());
    await run(
      cli,
      [
        ...(password ? ["-a", password, "--no-auth-warning"] : []),
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        String(replicasPerPrimary),
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    );
    await waitUntil(
      async () => {
        for (const port of ports) {
          const info = String(await command(port, "CLUSTER", "INFO"));
          if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${count}\\b`).test(info))
            return false;
        }
        // Every replica has finished its first sync, so a failover has someone to promote.
        const shards = await slotOwners(alive()[0] as number);
        return shards.every((s) => s.replicas.length === replicasPerPrimary);
      },
      20_000,
      "the Redis Cluster to form",
    );
  } catch (err) {
    await destroy();
    throw err;
  }

  async function slotOwners(port: number) {
    const slots = (await command(port, "CLUSTER", "SLOTS")) as Array<
      [number, number, [string, number, string], ...Array<[string, number, string]>]
    >;
    return slots.map(([from, to, primary, ...replicas]) => ({
      from,
      to,
      primary: Number(primary[1]),
      replicas: replicas.map((r) => Number(r[1])),
    }));
  }
  const anyAlive = () => {
    const p = alive()[0];
    if (p === undefined) throw new Error("no Redis Cluster node is running");
    return p;
  };
  const primaryOf = async (key: string) => {
    const slot = Number(await command(anyAlive(), "CLUSTER", "KEYSLOT", key));
    const owner = (await slotOwners(anyAlive())).find((s) => s.from <= slot && slot <= s.to);
    if (!owner) throw new Error(`no node serves slot ${slot}`);
    return owner.primary;
  };

  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(","),
    ports,
    primaryOf,
    async primaries() {
      return [...new Set((await slotOwners(anyAlive())).map((s) => s.primary))];
    },
    async kill(port) {
      const c = children.get(port);
      clients.get(port)?.disconnect();
      clients.delete(port);
      if (!c || !running(c)) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGKILL");
      await exited;
    },
    async waitForFailover(key, oldPrimary, timeoutMs = 30_000) {
      let owner = oldPrimary;
      await waitUntil(
        async () => {
          const port = anyAlive();
          const info = String(await command(port, "CLUSTER", "INFO"));
          if (!/cluster_state:ok/.test(info)) return false;
          owner = await primaryOf(key);
          return owner !== oldPrimary;
        },
        timeoutMs,
        `a replica of ${oldPrimary} to take over`,
      );
      return owner;
    },
    command,
    destroy,
  };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface RedisMode {
  mode: "one Redis" | "a Redis Cluster";
  /** What an instance is started with. */
  env: Record<string, string>;
  /** A client of the same Redis for the test's own checks (a Cluster client in cluster mode). */
  client(): Redis | Cluster;
}

/**
 * The shared single Redis and the shared Redis Cluster (test/global-setup.ts), for suites that must hold in both
 * modes; a mode whose server is not installed is left out (requireServices decides whether that is a failure).
 */
export function redisModes(): RedisMode[] {
  const url = inject("redisUrl");
  const nodes = inject("redisClusterNodes");
  const modes: RedisMode[] = [];
  if (url) modes.push({ mode: "one Redis", env: { REDIS_URL: url }, client: () => new Redis(url) });
  if (nodes)
    modes.push({
      mode: "a Redis Cluster",
      env: { REDIS_CLUSTER_NODES: nodes },
      client: () =>
        new Cluster(
          nodes.split(",").map((n) => ({ host: n.split(":")[0] as string, port: Number(n.split(":")[1]) })),
        ),
    });
  return modes;
}
