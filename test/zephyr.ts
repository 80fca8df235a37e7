import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { loadConfig } from "../app/src/config/index.js";
import { createLogger } from "../app/src/logging/index.js";
import { createZephyr, type Zephyr } from "../app/src/server.js";
import { REPO_ROOT } from "./paths.js";

export const MAIN_JS = resolve(REPO_ROOT, "app/dist/main.js");
/**
 * Test files run in parallel against one shared Redis: each worker gets its own key prefix, so one file's rate
 * limits, sessions and adapter channels never leak into another's (instances in one file still share them).
 */
export const TEST_KEY_PREFIX = `zt${process.pid}`;

/**
 * Rebalancing (on by default) moves connections between instances on its own; tests that place clients on
 * particular instances and count them there opt out. app/test/rebalance.test.ts turns it on, and the image and
 * Compose tests run the defaults.
 */
const NOT_REBALANCING = { REBALANCE_ENABLED: "false" };

export interface RunningZephyr {
  url: string;
  zephyr: Zephyr;
  logs: string[];
  stop(): Promise<void>;
}

/** An in-process instance on a free port, configured exactly like production through env-style settings. */
export async function startZephyr(env: Record<string, string | undefined> = {}): Promise<RunningZephyr> {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    INSTANCE_ID: "test",
    LOG_LEVEL: "info",
    REDIS_KEY_PREFIX: TEST_KEY_PREFIX,
    ...NOT_REBALANCING,
    ...env,
  });
  const logs: string[] = [];
  const logger = createLogger({
    level: config.log.level,
    instanceId: config.log.instanceId,
    destination: new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  });
  const zephyr = await createZephyr(config, logger);
  const addr = await zephyr.listen();
  return { url: `http://127.0.0.1:${addr.port}`, zephyr, logs, stop: () => zephyr.shutdown("test") };
}

export interface ZephyrProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/** The compiled service as its own process, exactly as `npm start` / the container runs it. */
export async function spawnZephyr(
  env: Record<string, string | undefined>,
  {
    args = [],
    cwd = REPO_ROOT,
    timeoutMs = 30_000,
    onOutput,
    execArgv = [],
    keepOutputBytes = Number.POSITIVE_INFINITY,
  }: {
    args?: string[];
    cwd?: string;
    timeoutMs?: number;
    onOutput?: (text: string) => void;
    /** node flags, e.g. --cpu-prof for the benchmark */
    execArgv?: string[];
    /** keep only the tail of the output (long load runs must not grow the caller's memory) */
    keepOutputBytes?: number;
  } = {},
): Promise<ZephyrProcess> {
  const child = spawn(process.execPath, [...execArgv, MAIN_JS, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      REDIS_KEY_PREFIX: TEST_KEY_PREFIX,
      ...NOT_REBALANCING,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > keepOutputBytes) out = out.slice(-keepOutputBytes);
    onOutput?.(out);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | string>((res) =>
    child.once("exit", (code, sig) => res(code ?? sig ?? -1)),
  );
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`zephyr did not start within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = () => {
      const m = /"port":(\d+)[^\n]*"msg":"zephyr listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        res(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`zephyr exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    exited,
    kill: (signal = "SIGTERM") => void child.kill(signal),
  };
}

/** fetch + JSON with the body typed loosely for assertions. */
export async function api(
  base: string,
  path: string,
  init: {
    method?: string;
    body?: unknown;
    raw?: string;
    token?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.body);
  }
  const res = await fetch(base + path, {
    method: init.method ?? (body !== undefined ? "POST" : "GET"),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 100, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
