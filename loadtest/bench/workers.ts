import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { HERE, REPO } from "./options.js";
import { track } from "./processes.js";

/** Load-generator processes (worker.ts), driven over IPC, so clients never share a server's event loop. */

/** Clients per worker process: each holds one file descriptor per client, well under the open-file limit. */
export const PER_WORKER = 5000;

export interface Worker {
  child: ChildProcess;
  // biome-ignore lint/suspicious/noExplicitAny: IPC replies are plain JSON; each section reads the fields it needs.
  call<T = any>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  events: Array<{ event: string }>;
  onEvent(name: string): Promise<void>;
  send(m: unknown): void;
}

function startWorker(): Worker {
  const child = spawn(process.execPath, ["--import", "tsx", join(HERE, "worker.ts")], {
    cwd: REPO,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  track(child);
  let nextId = 1;
  const pending = new Map<number, { res: (v: never) => void; rej: (e: Error) => void }>();
  const events: Array<{ event: string }> = [];
  const waiters: Array<{ name: string; res: () => void }> = [];
  child.on("message", (m: { id: number; ok: boolean; result: never; error: string; event?: string }) => {
    if (m?.event) {
      events.push({ event: m.event });
      for (const w of waiters.filter((w) => w.name === m.event)) w.res();
      return;
    }
    const p = pending.get(m?.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.res(m.result);
    else p.rej(new Error(m.error));
  });
  child.on("exit", (code) => {
    for (const p of pending.values()) p.rej(new Error(`worker exited (${code})`));
    pending.clear();
  });
  return {
    child,
    events,
    send: (m) => child.send(m as never),
    call: (cmd, args = {}) =>
      new Promise((res, rej) => {
        const id = nextId++;
        pending.set(id, { res, rej });
        child.send({ id, cmd, ...args });
      }),
    onEvent: (name) =>
      events.some((e) => e.event === name)
        ? Promise.resolve()
        : new Promise((res) => {
            waiters.push({ name, res });
          }),
  };
}

// Workers are reused across sections (each starts a TypeScript loader, which costs seconds on a busy box).
const idle: Worker[] = [];

export function takeWorker(): Worker {
  for (;;) {
    const w = idle.pop();
    if (!w) return startWorker();
    if (w.child.exitCode === null) return w;
  }
}

export async function stopWorkers(ws: Worker[]): Promise<void> {
  await Promise.all(ws.map((w) => w.call("close").catch(() => undefined)));
  idle.push(...ws.filter((w) => w.child.exitCode === null));
}

/** Each worker binds its clients to its own loopback addresses: one address has only ~28k ephemeral ports. */
export function sourceAddresses(worker: number, n = 4): string[] {
  return Array.from({ length: n }, (_, j) => `127.0.0.${2 + worker * n + j}`);
}

/**
 * `total` clients connect to `urls` (spread over them) and join `roomCode`, split evenly over the workers, each worker from its own
 * source addresses with at most `concurrency` connecting at a time; resolves with each worker's report.
 */
// biome-ignore lint/suspicious/noExplicitAny: IPC replies are plain JSON; each section reads the fields it needs.
export function connectAcross<T = any>(
  workers: Worker[],
  {
    urls,
    total,
    roomCode,
    concurrency,
  }: { urls: string[]; total: number; roomCode?: string; concurrency: number },
): Promise<T[]> {
  const per = Math.ceil(total / workers.length);
  return Promise.all(
    workers.map((w, i) =>
      w.call<T>("connect", {
        urls,
        count: Math.min(per, total - i * per),
        localAddresses: sourceAddresses(i),
        roomCode,
        concurrency,
      }),
    ),
  );
}
