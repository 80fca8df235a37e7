import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createDatabase } from "../../test/services.js";
import { api, spawnZephyr, type ZephyrProcess } from "../../test/zephyr.js";
import { HERE, REPO } from "./options.js";
import { track } from "./processes.js";
import { profileDirOf, profilerFlags, type TopFn, topFunctions } from "./profile.js";
import { postgres, redisServer } from "./services.js";

/** Compiled Zephyr instances (each set on a fresh database) and the bare baselines of bare.ts. */

const BASE_ENV = {
  LOG_LEVEL: "warn",
  // Load comes from a handful of source addresses and spreads over many polls (votes, fan-out), which the
  // per-address limits rightly throttle; the join storm itself fits the crowd-safe defaults.
  RATE_LIMIT_JOIN: "1000000",
  RATE_LIMIT_JOIN_POLLS: "1000000",
  RATE_LIMIT_VOTE: "1000000",
  RATE_LIMIT_POLL_CREATE: "1000000",
  RATE_LIMIT_ROOM_MISS: "1000000",
  // The fan-out creates a voter per HTTP vote in one poll: 20,000+ participants, past the default cap.
  POLL_PARTICIPANT_CAP: "1000000",
  SOCKET_TRANSPORTS: "websocket",
  SHUTDOWN_DELAY_MS: "0",
  DRAIN_WINDOW_MS: "0",
};
export const NAIVE_ENV = { VOTE_BATCH_MAX: "1", BROADCAST_INTERVAL_MS: "0" };

const running = new Set<ZephyrProcess>();

export interface Instance extends ZephyrProcess {
  databaseUrl: string;
}

export async function startZephyrs(
  n: number,
  env: Record<string, string>,
  label: string,
  { profile = true, databaseUrl = "" } = {},
): Promise<Instance[]> {
  databaseUrl ||= await createDatabase(postgres().url, "bench");
  const mk = async (i: number): Promise<Instance> => {
    const name = `${label}-${i + 1}`;
    if (profile) mkdirSync(profileDirOf(name), { recursive: true });
    const z = await spawnZephyr(
      {
        ...BASE_ENV,
        // spawnZephyr waits for the info-level "zephyr listening" line; warn-level keeps 15k joins quiet after.
        LOG_LEVEL: "info",
        DATABASE_URL: databaseUrl,
        INSTANCE_ID: name,
        ...(n > 1 ? { REDIS_URL: redisServer().url } : {}),
        ...env,
      },
      // Keep only the tail of the output: 15,000 joins must not grow the harness's memory.
      { execArgv: profile ? profilerFlags(name) : [], keepOutputBytes: 64 * 1024 },
    );
    track(z.child);
    return { ...z, databaseUrl };
  };
  // The first instance runs the migrations; the others start once the schema is there.
  const first = await mk(0);
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => mk(i + 1)));
  const all = [first, ...rest];
  for (const z of all) running.add(z);
  return all;
}

export async function startZephyr(
  env: Record<string, string>,
  label: string,
  opts: { profile?: boolean; databaseUrl?: string } = {},
): Promise<Instance> {
  return (await startZephyrs(1, env, label, opts))[0] as Instance;
}

/** SIGTERM so --cpu-prof writes its profile; returns the hottest functions by self time. */
export async function stopZephyrs(zs: Instance[], label: string): Promise<Array<TopFn[]>> {
  for (const z of zs) z.kill("SIGTERM");
  await Promise.all(zs.map((z) => Promise.race([z.exited, sleep(15_000)])));
  for (const z of zs) {
    if (z.child.exitCode === null) z.kill("SIGKILL");
    running.delete(z);
  }
  return zs.map((_, i) => topFunctions(profileDirOf(`${label}-${i + 1}`)));
}

/** After a failed section: its instances must not skew the next one. */
export function killZephyrs(): void {
  for (const z of running) z.kill("SIGKILL");
  running.clear();
}

export async function newPoll(
  base: string,
  allowVoteChange = false,
): Promise<{ roomCode: string; id: string }> {
  const r = await api(base, "/api/polls", {
    body: { question: "bench", options: ["a", "b", "c", "d"], allowVoteChange },
  });
  if (r.status !== 201) throw new Error(`create poll: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface BareServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startBare(args: string[]): Promise<BareServer> {
  const child = spawn(process.execPath, ["--import", "tsx", join(HERE, "bare.ts"), ...args], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "inherit"],
  });
  track(child);
  const port = await new Promise<number>((res, rej) => {
    let buf = "";
    child.stdout?.on("data", (d) => {
      buf += d;
      const line = buf.split("\n")[0];
      if (buf.includes("\n") && line) res(JSON.parse(line).port);
    });
    child.once("exit", (c) => rej(new Error(`bare server exited ${c}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    stop: async () => {
      child.kill("SIGKILL");
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    },
  };
}
