import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createDatabase,
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
} from "../../test/services.js";
import { api, spawnZephyr as spawnZephyrProcess, type ZephyrProcess } from "../../test/zephyr.js";
import { Histogram } from "./hist.js";
import { renderReport } from "./report.js";

/**
 * The benchmark harness: real PostgreSQL and Redis, compiled Zephyr instances, and every figure next to a
 * baseline measured in the same run. Load comes from separate processes (worker.ts over raw WebSockets from
 * several 127.0.0.x addresses, autocannon for HTTP). `--quick` shrinks every size so CI can prove the
 * harness still works in under a minute; its numbers mean nothing.
 */

const HERE = import.meta.dirname;
const REPO = resolve(HERE, "../..");
const QUICK = process.argv.includes("--quick");
const outArg = process.argv.indexOf("--out");
const OUT =
  outArg > 0 ? resolve(process.argv[outArg + 1] as string) : QUICK ? join(HERE, "results/quick") : HERE;
const only =
  process.argv.indexOf("--only") > 0 ? process.argv[process.argv.indexOf("--only") + 1] : undefined;

const S = QUICK
  ? {
      httpSeconds: 1,
      httpConnections: 16,
      connections: 100,
      holdSeconds: 2,
      voteClients: 16,
      voteSeconds: 1,
      votePacedRate: 200,
      fanParticipants: 30,
      fanRate: 30,
      fanSeconds: 1,
      cmpParticipants: 15,
      cmpRate: 20,
      cmpSeconds: 1,
      observers: 6,
      singleVotes: 3,
      deadlineMs: 150_000,
    }
  : {
      httpSeconds: 10,
      httpConnections: 64,
      connections: 15_000,
      holdSeconds: 60,
      voteClients: 256,
      voteSeconds: 10,
      votePacedRate: 5000,
      fanParticipants: 5000,
      fanRate: 2000,
      fanSeconds: 10,
      cmpParticipants: 500,
      cmpRate: 200,
      cmpSeconds: 5,
      observers: 100,
      singleVotes: 30,
      deadlineMs: 40 * 60_000,
    };
const PER_WORKER = 5000;
const POLLS = 4;

const children = new Set<ChildProcess>();
const zephyrs = new Set<ZephyrProcess>();
let pg: PostgresServer | undefined;
let redis: RedisServer | undefined;
const profDir = join(REPO, ".tmp", `bench-prof-${process.pid}`);

async function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const z of zephyrs) if (z.child.exitCode === null) z.kill("SIGKILL");
  // Say so when a service cannot be stopped: a silent failure would leave a PostgreSQL running behind us.
  await redis?.destroy().catch((e) => console.error("bench: could not stop redis:", e));
  await pg?.destroy().catch((e) => console.error("bench: could not stop postgres:", e));
  redis = undefined;
  pg = undefined;
  rmSync(profDir, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const z of zephyrs) if (z.child.exitCode === null) z.kill("SIGKILL");
});
const deadline = setTimeout(() => {
  console.error(`bench: deadline of ${S.deadlineMs} ms exceeded, stopping everything`);
  void cleanup().finally(() => process.exit(3));
}, S.deadlineMs);
deadline.unref();

function need<T>(v: T | undefined): T {
  if (v === undefined) throw new Error("service not started");
  return v;
}

const log = (...a: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------------------------------------------------------------- processes

interface Worker {
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
  children.add(child);
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
    children.delete(child);
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
function takeWorker(): Worker {
  for (;;) {
    const w = idle.pop();
    if (!w) return startWorker();
    if (w.child.exitCode === null) return w;
  }
}
async function stopWorkers(ws: Worker[]) {
  await Promise.all(ws.map((w) => w.call("close").catch(() => undefined)));
  idle.push(...ws.filter((w) => w.child.exitCode === null));
}

async function startBare(args: string[]): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(HERE, "bare.ts"), ...args], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
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
      children.delete(child);
    },
  };
}

const BASE_ENV = {
  LOG_LEVEL: "warn",
  RATE_LIMIT_JOIN: "1000000",
  RATE_LIMIT_JOIN_POLLS: "1000000",
  RATE_LIMIT_VOTE: "1000000",
  RATE_LIMIT_POLL_CREATE: "1000000",
  RATE_LIMIT_ROOM_MISS: "1000000",
  SOCKET_TRANSPORTS: "websocket",
  SHUTDOWN_DELAY_MS: "0",
  DRAIN_WINDOW_MS: "0",
};
const NAIVE_ENV = { VOTE_BATCH_MAX: "1", BROADCAST_INTERVAL_MS: "0" };

/** spawnZephyr's contract (ready on the "zephyr listening" line) plus node flags, which it cannot pass. */
async function spawnZephyr(env: Record<string, string>, execArgv: string[]): Promise<ZephyrProcess> {
  // Keep only the tail of the output: 15,000 joins must not grow the harness's memory.
  const z = await spawnZephyrProcess(env, { execArgv, keepOutputBytes: 64 * 1024 });
  children.add(z.child);
  return z;
}

/**
 * Profiled instances sample every PROFILE_INTERVAL_US: at V8's default 1 ms the profiler itself cost 15-30 %
 * of the CPU per HTTP request here, which would depress Zephyr's figures next to unprofiled baselines.
 */
const PROFILE_INTERVAL_US = 10_000;

async function startZephyrs(
  n: number,
  env: Record<string, string>,
  label: string,
  { profile = true } = {},
): Promise<ZephyrProcess[]> {
  const db = await createDatabase(need(pg).url, "bench");
  mkdirSync(profDir, { recursive: true });
  const mk = (i: number) =>
    spawnZephyr(
      {
        ...BASE_ENV,
        // spawnZephyr waits for the info-level "zephyr listening" line; warn-level keeps 15k joins quiet after.
        LOG_LEVEL: "info",
        DATABASE_URL: db,
        INSTANCE_ID: `${label}-${i + 1}`,
        ...(redis && n > 1 ? { REDIS_URL: redis.url } : {}),
        ...env,
      },
      profile
        ? [
            "--cpu-prof",
            `--cpu-prof-interval=${PROFILE_INTERVAL_US}`,
            `--cpu-prof-dir=${join(profDir, `${label}-${i + 1}`)}`,
          ]
        : [],
    );
  const first = await mk(0);
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => mk(i + 1)));
  const all = [first, ...rest];
  for (const z of all) zephyrs.add(z);
  return all;
}

/** SIGTERM so --cpu-prof writes its profile; returns the hottest functions by self time. */
async function stopZephyrs(zs: ZephyrProcess[], label: string): Promise<Array<TopFn[]>> {
  for (const z of zs) z.kill("SIGTERM");
  await Promise.all(zs.map((z) => Promise.race([z.exited, sleep(15_000)])));
  for (const z of zs) {
    if (z.child.exitCode === null) z.kill("SIGKILL");
    zephyrs.delete(z);
  }
  return zs.map((_, i) => topFunctions(join(profDir, `${label}-${i + 1}`)));
}

interface TopFn {
  fn: string;
  selfPct: number;
}

function topFunctions(dir: string, n = 8): TopFn[] {
  if (!existsSync(dir)) return [];
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) return [];
  const prof = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
    nodes: Array<{
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
      hitCount?: number;
    }>;
  };
  const by = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    const cf = node.callFrame;
    if (cf.functionName === "(idle)") continue;
    total += hits;
    const where = cf.url
      ? `${cf.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/app\//, "app/")}:${cf.lineNumber + 1}`
      : "";
    const key = `${cf.functionName || "(anonymous)"} ${where}`.trim();
    by.set(key, (by.get(key) ?? 0) + hits);
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, hits]) => ({ fn, selfPct: Math.round((1000 * hits) / Math.max(1, total)) / 10 }));
}

// ---------------------------------------------------------------- measurements

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

async function zephyrHeap(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)/m.exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

async function bareHeap(url: string): Promise<number> {
  return ((await (await fetch(`${url}/heap`)).json()) as { heapUsed: number }).heapUsed;
}

/** CPU seconds of a process, and of the whole machine: the cheap profile next to every figure. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
function machineCpu(): { busy: number; total: number } {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}
function cpuWatch(pids: Record<string, number[]>) {
  const start = Object.fromEntries(Object.entries(pids).map(([k, ps]) => [k, ps.map(cpuSeconds)]));
  const m0 = machineCpu();
  const t0 = performance.now();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const m1 = machineCpu();
    const out: Record<string, number> = {};
    for (const [k, ps] of Object.entries(pids)) {
      const used = ps.reduce((a, p, i) => a + (cpuSeconds(p) - (start[k]?.[i] ?? 0)), 0);
      out[`${k}CorePct`] = Math.round((100 * used) / wall);
    }
    out.machineBusyPct = Math.round((100 * (m1.busy - m0.busy)) / Math.max(0.01, m1.total - m0.total));
    return out;
  };
}

function sourceAddresses(worker: number, n = 4): string[] {
  return Array.from({ length: n }, (_, j) => `127.0.0.${2 + worker * n + j}`);
}

async function newPoll(base: string, allowVoteChange = false): Promise<{ roomCode: string; id: string }> {
  const r = await api(base, "/api/polls", {
    body: { question: "bench", options: ["a", "b", "c", "d"], allowVoteChange },
  });
  if (r.status !== 201) throw new Error(`create poll: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

function autocannon(url: string, seconds: number, connections: number) {
  const bin = join(REPO, "node_modules/autocannon/autocannon.js");
  const run = (d: number) =>
    JSON.parse(
      execFileSync(process.execPath, [bin, "-c", String(connections), "-d", String(d), "-j", url], {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["ignore", "pipe", "ignore"],
      }),
    ) as {
      requests: { average: number; total: number };
      latency: { p50: number; p99: number; average: number };
      non2xx: number;
      errors: number;
      timeouts: number;
    };
  if (!QUICK) run(1); // warm-up: JIT, keep-alive sockets, PostgreSQL caches
  const r = run(seconds);
  return {
    reqPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    avgMs: r.latency.average,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

// ---------------------------------------------------------------- sections

async function benchHttp() {
  log("http: results endpoint vs bare Hono");
  // The figure comes from an unprofiled instance, like the bare baseline; a second, profiled run explains it.
  const [z] = await startZephyrs(1, {}, "http", { profile: false });
  const zz = z as ZephyrProcess;
  const poll = await newPoll(zz.url);
  for (let i = 0; i < 3; i++) {
    const p = await api(zz.url, `/api/polls/${poll.roomCode}/participants`, { body: { nickname: `h${i}` } });
    await api(zz.url, `/api/polls/${poll.roomCode}/votes`, {
      body: { optionIndex: i % 2 },
      token: p.body.participantToken,
    });
  }
  const results = (await api(zz.url, `/api/polls/${poll.roomCode}/results`)).body;
  const bare = await startBare(["hono", JSON.stringify(results)]);
  const path = `/api/polls/${poll.roomCode}/results`;
  const same = JSON.stringify((await api(bare.url, path)).body) === JSON.stringify(results);
  const cz = cpuWatch({ server: [zz.child.pid as number] });
  const zephyr = autocannon(zephyrUrl(zz.url, path), S.httpSeconds, S.httpConnections);
  const zephyrCpu = cz();
  const cb = cpuWatch({ server: [bare.pid] });
  const baseline = autocannon(`${bare.url}${path}`, S.httpSeconds, S.httpConnections);
  const bareCpu = cb();
  await bare.stop();
  await stopZephyrs([zz], "http");
  const [profiled] = await startZephyrs(1, {}, "http-profile");
  const pz = profiled as ZephyrProcess;
  const profiledPoll = await newPoll(pz.url);
  autocannon(
    `${pz.url}/api/polls/${profiledPoll.roomCode}/results`,
    Math.max(1, S.httpSeconds / 2),
    S.httpConnections,
  );
  const [profile] = await stopZephyrs([pz], "http-profile");
  return {
    connections: S.httpConnections,
    seconds: S.httpSeconds,
    body: results,
    sameJson: same,
    zephyr: { ...zephyr, cpu: zephyrCpu },
    bareHono: { ...baseline, cpu: bareCpu },
    ratio: Math.round((100 * zephyr.reqPerSec) / Math.max(1, baseline.reqPerSec)) / 100,
    profile,
  };
}
const zephyrUrl = (base: string, path: string) => `${base}${path}`;

async function holdConnections(
  target: { url: string; pid: number; heap: () => Promise<number> },
  roomCode: string,
) {
  const nWorkers = Math.max(1, Math.ceil(S.connections / PER_WORKER));
  const workers = Array.from({ length: nWorkers }, takeWorker);
  await sleep(1500);
  const rss0 = rssBytes(target.pid);
  const heap0 = await target.heap();
  const t0 = performance.now();
  const per = Math.ceil(S.connections / nWorkers);
  const connected = await Promise.all(
    workers.map((w, i) =>
      w.call("connect", {
        urls: [target.url],
        count: Math.min(per, S.connections - i * per),
        localAddresses: sourceAddresses(i),
        roomCode,
        concurrency: 100,
      }),
    ),
  );
  const connectSeconds = (performance.now() - t0) / 1000;
  await sleep(2000);
  const rss1 = rssBytes(target.pid);
  const heap1 = await target.heap();
  const opened = connected.reduce((a, c) => a + c.connected, 0);
  let minOpen = opened;
  const holdEnd = Date.now() + S.holdSeconds * 1000;
  let peakRss = rss1;
  while (Date.now() < holdEnd) {
    await sleep(Math.min(5000, Math.max(100, holdEnd - Date.now())));
    const open = (await Promise.all(workers.map((w) => w.call("count")))).reduce((a, c) => a + c.open, 0);
    minOpen = Math.min(minOpen, open);
    peakRss = Math.max(peakRss, rssBytes(target.pid));
  }
  const clientMem = await Promise.all(workers.map((w) => w.call("memory")));
  await stopWorkers(workers);
  const held = minOpen;
  return {
    requested: S.connections,
    opened,
    failed: connected.reduce((a, c) => a + c.failed, 0),
    heldThroughout: held,
    holdSeconds: S.holdSeconds,
    connectSeconds: Math.round(connectSeconds * 10) / 10,
    joinsPerSec: Math.round(opened / connectSeconds),
    rssBeforeMB: mb(rss0),
    rssAfterMB: mb(rss1),
    peakRssMB: mb(peakRss),
    heapBeforeMB: mb(heap0),
    heapAfterMB: mb(heap1),
    rssPerConnKB: Math.round(((rss1 - rss0) / Math.max(1, opened) / 1024) * 10) / 10,
    heapPerConnKB: Math.round(((heap1 - heap0) / Math.max(1, opened) / 1024) * 10) / 10,
    clientWorkers: nWorkers,
    clientRssMB: clientMem.map((m: { rss: number }) => mb(m.rss)),
  };
}
const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

async function benchConnections() {
  log(`connections: ${S.connections} participants held ${S.holdSeconds}s, Zephyr vs bare socket.io`);
  const [z] = await startZephyrs(1, {}, "conn");
  const zz = z as ZephyrProcess;
  const poll = await newPoll(zz.url);
  const zephyr = await holdConnections(
    { url: zz.url, pid: zz.child.pid as number, heap: () => zephyrHeap(zz.url) },
    poll.roomCode,
  );
  const health = (await api(zz.url, "/api/health")).body;
  const [profile] = await stopZephyrs([zz], "conn");
  const bare = await startBare(["socketio"]);
  const baseline = await holdConnections(
    { url: bare.url, pid: bare.pid, heap: () => bareHeap(bare.url) },
    "bench",
  );
  await bare.stop();
  return { zephyr, bareSocketIo: baseline, zephyrHealthAfterClose: health?.connections, profile };
}

async function voteRun(naive: boolean) {
  const label = naive ? "votes-naive" : "votes-group";
  const [z] = await startZephyrs(1, naive ? NAIVE_ENV : {}, label);
  const zz = z as ZephyrProcess;
  const polls = await Promise.all(Array.from({ length: POLLS }, () => newPoll(zz.url, true)));
  const workers = [takeWorker(), takeWorker()];
  const perPoll = Math.ceil(S.voteClients / POLLS / workers.length);
  for (const p of polls) {
    await Promise.all(
      workers.map((w, i) =>
        w.call("connect", {
          urls: [zz.url],
          count: perPoll,
          localAddresses: sourceAddresses(i),
          roomCode: p.roomCode,
        }),
      ),
    );
  }
  const cpu = cpuWatch({
    server: [zz.child.pid as number],
    clients: workers.map((w) => w.child.pid as number),
  });
  const runs = await Promise.all(
    workers.map((w) => w.call("vote-loop", { durationMs: S.voteSeconds * 1000 })),
  );
  const cpuUsed = cpu();
  // Latency at a fixed offered rate, below saturation: the closed loop above measures the most votes/s and
  // the latency of a queue kept full by 256 outstanding votes (Little's law), which is not what a voter sees.
  let paced: ReturnType<typeof pacedSummary> | undefined;
  if (!naive) {
    const cpuPaced = cpuWatch({
      server: [zz.child.pid as number],
      clients: workers.map((w) => w.child.pid as number),
    });
    const pacedRuns = await Promise.all(
      workers.map((w) =>
        w.call("vote-paced", {
          ratePerSec: S.votePacedRate / workers.length,
          durationMs: S.voteSeconds * 1000,
        }),
      ),
    );
    paced = pacedSummary(pacedRuns, cpuPaced());
  }
  const h = new Histogram();
  let acks = 0;
  let errors = 0;
  let elapsed = 0;
  for (const r of runs) {
    for (const v of r.rtt as number[]) h.add(v);
    acks += r.rtt.length;
    errors += r.errors;
    elapsed = Math.max(elapsed, r.elapsedMs);
  }
  // Durability check: with vote changes every participant has exactly one stored vote per poll.
  const totals = await Promise.all(polls.map((p) => api(zz.url, `/api/polls/${p.roomCode}/results`)));
  const stored = totals.reduce((a, r) => a + (r.body.total as number), 0);
  await stopWorkers(workers);
  const [profile] = await stopZephyrs([zz], label);
  return {
    mode: naive ? "naive (VOTE_BATCH_MAX=1, BROADCAST_INTERVAL_MS=0)" : "group commit (defaults)",
    clients: perPoll * POLLS * workers.length,
    polls: POLLS,
    seconds: Math.round(elapsed / 100) / 10,
    acks,
    errors,
    votesPerSec: Math.round(acks / (elapsed / 1000)),
    ack: h.summary(),
    storedVotes: stored,
    storedMatchesParticipants: stored === perPoll * POLLS * workers.length,
    cpu: cpuUsed,
    paced,
    profile,
  };
}

function pacedSummary(
  runs: Array<{ rtt: number[]; errors: number; sent: number; elapsedMs: number }>,
  cpu: ReturnType<ReturnType<typeof cpuWatch>>,
) {
  const h = new Histogram();
  for (const r of runs) for (const v of r.rtt) h.add(v);
  const acks = runs.reduce((a, r) => a + r.rtt.length, 0);
  const elapsed = Math.max(...runs.map((r) => r.elapsedMs));
  return {
    offeredPerSec: S.votePacedRate,
    sent: runs.reduce((a, r) => a + r.sent, 0),
    acks,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    achievedPerSec: Math.round(acks / (elapsed / 1000)),
    ack: h.summary(),
    cpu,
  };
}

async function benchVotes() {
  log(`votes: ${S.voteClients} clients, closed loop ${S.voteSeconds}s, group commit vs naive`);
  const group = await voteRun(false);
  const naive = await voteRun(true);
  return {
    group,
    naive,
    speedup: Math.round((10 * group.votesPerSec) / Math.max(1, naive.votesPerSec)) / 10,
  };
}

async function fanoutRun(zs: ZephyrProcess[], participants: number, rate: number, seconds: number) {
  const urls = zs.map((z) => z.url);
  const poll = await newPoll(urls[0] as string);
  const nObs = Math.max(1, Math.ceil(participants / PER_WORKER) + (participants > 1000 ? 1 : 0));
  const observers = Array.from({ length: nObs }, takeWorker);
  const voter = takeWorker();
  const per = Math.ceil(participants / nObs);
  await Promise.all(
    observers.map((w, i) =>
      w.call("connect", {
        urls,
        count: Math.min(per, participants - i * per),
        localAddresses: sourceAddresses(i),
        roomCode: poll.roomCode,
        concurrency: 100,
      }),
    ),
  );
  const votes = rate * seconds;
  voter.events.length = 0; // a reused worker still has the previous run's "voters-ready"
  const voting = voter.call("http-voters", { urls, roomCode: poll.roomCode, votes, rate });
  await voter.onEvent("voters-ready");
  await Promise.all(observers.map((w) => w.call("record", { on: true, reset: true })));
  const cpu = cpuWatch({
    servers: zs.map((z) => z.child.pid as number),
    observers: observers.map((w) => w.child.pid as number),
    voter: [voter.child.pid as number],
  });
  const windowStart = performance.timeOrigin + performance.now();
  voter.send({ go: true });
  const v = await voting;
  // Let trailing-edge and naive backlogs drain: stop when no new update arrived for 2 s (bounded).
  let last = -1;
  for (let i = 0; i < 60; i++) {
    await sleep(QUICK ? 300 : 1000);
    const msgs = (await Promise.all(observers.map((w) => w.call<number>("messages")))).reduce(
      (a, n) => a + n,
      0,
    );
    if (msgs === last) break;
    last = msgs;
  }
  const cpuUsed = cpu();
  const windowEnd = performance.timeOrigin + performance.now();
  await Promise.all(observers.map((w) => w.call("record", { on: false })));
  const records = v.records as Array<[number, number, number, number]>;
  const ok = records.filter((r) => r[3] === 1).sort((a, b) => a[2] - b[2]);
  const stats = await Promise.all(
    observers.map((w) =>
      w.call("fanout-stats", { votes: ok.map((r) => [r[1], r[0]]), windowStart, windowEnd, initialTotal: 0 }),
    ),
  );
  const same = new Histogram();
  const cross = new Histogram();
  let messages = 0;
  let clients = 0;
  let negative = 0;
  let maxPer = 0;
  for (const s of stats) {
    same.merge(Histogram.fromSparse(s.same));
    cross.merge(Histogram.fromSparse(s.cross));
    messages += s.messages;
    clients += s.clients;
    negative += s.negative;
    maxPer = Math.max(maxPer, ...(s.perClient as number[]));
  }
  const stored = (await api(urls[0] as string, `/api/polls/${poll.roomCode}/results`)).body;
  await stopWorkers([...observers, voter]);
  const votingSeconds = v.elapsedMs / 1000;
  const ackH = new Histogram();
  for (const r of ok) ackH.add(r[2] - r[1]);
  return {
    instances: zs.length,
    participants: clients,
    votesSent: votes,
    votesAcked: ok.length,
    targetRate: rate,
    achievedRate: Math.round(records.length / votingSeconds),
    votingSeconds: Math.round(votingSeconds * 10) / 10,
    storedTotal: stored.total,
    sameInstance: same.summary(),
    crossInstance: cross.summary(),
    httpVoteAck: ackH.summary(),
    messages,
    msgsPerParticipantPerSec: Math.round((messages / Math.max(1, clients) / votingSeconds) * 10) / 10,
    maxMsgsOneParticipant: maxPer,
    msgsPerVotePerParticipant:
      Math.round((messages / Math.max(1, clients) / Math.max(1, ok.length)) * 1000) / 1000,
    rankOrderAnomalies: negative,
    cpu: cpuUsed,
  };
}

async function singleVote(zs: ZephyrProcess[]) {
  const urls = zs.map((z) => z.url);
  const poll = await newPoll(urls[0] as string, true);
  const obs = takeWorker();
  const voter = takeWorker();
  await obs.call("connect", {
    urls: urls.slice(1),
    count: S.observers,
    localAddresses: sourceAddresses(0),
    roomCode: poll.roomCode,
  });
  await voter.call("connect", {
    urls: [urls[0]],
    count: 1,
    localAddresses: sourceAddresses(1),
    roomCode: poll.roomCode,
  });
  await obs.call("record", { on: true, reset: true });
  const { sent } = await voter.call("single-votes", { votes: S.singleVotes, gapMs: 300 });
  await sleep(500);
  const { clients } = await obs.call("observations");
  await stopWorkers([obs, voter]);
  const h = new Histogram();
  const ack = new Histogram();
  let missing = 0;
  for (const [, option, emit, ackMs] of sent as Array<[number, number, number, number]>) {
    ack.add(ackMs);
    for (const c of clients as Array<{ updates: Array<[number, number[]]> }>) {
      const u = c.updates.find(([t, counts]) => t > emit && counts[option] === 1 && counts[1 - option] === 0);
      if (u) h.add(u[0] - emit);
      else missing++;
    }
  }
  return {
    observers: S.observers,
    votes: S.singleVotes,
    latency: h.summary(),
    voteAck: ack.summary(),
    missing,
  };
}

async function singleBare() {
  const a = await startBare(["socketio", need(redis).url]);
  const b = await startBare(["socketio", need(redis).url]);
  const obs = takeWorker();
  const voter = takeWorker();
  await obs.call("connect", {
    urls: [b.url],
    count: S.observers,
    localAddresses: sourceAddresses(0),
    roomCode: "bench",
  });
  await voter.call("connect", {
    urls: [a.url],
    count: 1,
    localAddresses: sourceAddresses(1),
    roomCode: "bench",
  });
  await sleep(300);
  await obs.call("record", { on: true, reset: true });
  const { sent } = await voter.call("single-votes", {
    votes: S.singleVotes,
    gapMs: 300,
    bare: true,
    roomCode: "bench",
  });
  await sleep(500);
  const { clients } = await obs.call("observations");
  await stopWorkers([obs, voter]);
  await a.stop();
  await b.stop();
  const h = new Histogram();
  let missing = 0;
  for (const [k, , emit] of sent as Array<[number, number, number, number]>) {
    for (const c of clients as Array<{ relays: Array<[number, number]> }>) {
      const r = c.relays.find(([kk]) => kk === k);
      if (r) h.add(r[1] - emit);
      else missing++;
    }
  }
  return { observers: S.observers, events: S.singleVotes, latency: h.summary(), missing };
}

async function benchFanout() {
  log(`fan-out: ${S.fanParticipants} participants / 3 instances, ${S.fanRate} votes/s for ${S.fanSeconds}s`);
  const zs = await startZephyrs(3, {}, "fan");
  const main = await fanoutRun(zs, S.fanParticipants, S.fanRate, S.fanSeconds);
  log("fan-out: reduced-scale comparison, coalesced");
  const cmpCoalesced = await fanoutRun(zs, S.cmpParticipants, S.cmpRate, S.cmpSeconds);
  log(`single vote: ${S.observers} observers on the two other instances`);
  const single = await singleVote(zs);
  const profile = await stopZephyrs(zs, "fan");
  log("fan-out: reduced-scale comparison, naive");
  const naiveZs = await startZephyrs(3, NAIVE_ENV, "fan-naive");
  const cmpNaive = await fanoutRun(naiveZs, S.cmpParticipants, S.cmpRate, S.cmpSeconds);
  const naiveProfile = await stopZephyrs(naiveZs, "fan-naive");
  log("single event: bare socket.io + redis-adapter pair");
  const bare = await singleBare();
  return {
    fanout: main,
    comparison: {
      coalesced: cmpCoalesced,
      naive: cmpNaive,
      messageRatio: Math.round((10 * cmpNaive.messages) / Math.max(1, cmpCoalesced.messages)) / 10,
      // Naive sends one message per vote per participant by design; at full fan-out scale that is:
      naiveMessagesAtFullScaleEstimate: Math.round(
        cmpNaive.msgsPerVotePerParticipant * main.participants * main.votesAcked,
      ),
      fullScaleRatioEstimate:
        Math.round(
          ((cmpNaive.msgsPerVotePerParticipant * main.participants * main.votesAcked) /
            Math.max(1, main.messages)) *
            10,
        ) / 10,
    },
    singleVote: { zephyr: single, bareSocketIoRedis: bare },
    profile,
    naiveProfile,
  };
}

// ---------------------------------------------------------------- main

function versionOf(pkg: string): string {
  try {
    return JSON.parse(readFileSync(join(REPO, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}
function cmdVersion(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).trim().split("\n")[0] as string;
  } catch {
    return "?";
  }
}

async function main() {
  const started = Date.now();
  if (!existsSync(join(REPO, "app/dist/main.js")))
    execFileSync("npm", ["run", "--silent", "build"], { cwd: REPO, stdio: "inherit" });
  const meta = {
    mode: QUICK ? "quick (sizes shrunk for CI; numbers are not meaningful)" : "full",
    date: new Date().toISOString(),
    machine: {
      nproc: cpus().length,
      cpuModel: cpus()[0]?.model ?? "?",
      memoryGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
      freeMemoryGBAtStart: Math.round((freemem() / 1024 ** 3) * 10) / 10,
      openFileLimit: cmdVersion("sh", ["-c", "ulimit -n"]),
      kernel: cmdVersion("uname", ["-r"]),
      loadAverageAtStart: cmdVersion("cat", ["/proc/loadavg"]),
    },
    versions: {
      node: process.version,
      zephyr: JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version,
      "socket.io": versionOf("socket.io"),
      "@socket.io/redis-adapter": versionOf("@socket.io/redis-adapter"),
      hono: versionOf("hono"),
      pg: versionOf("pg"),
      ioredis: versionOf("ioredis"),
      ws: versionOf("ws"),
      autocannon: versionOf("autocannon"),
      postgres: "",
      redis: cmdVersion("redis-server", ["--version"]),
    },
    sizes: S,
  };
  pg = await startPostgres({ durable: true });
  redis = await startRedis();
  meta.versions.postgres = (
    (
      await (async () => {
        const { sql } = await import("../../test/services.js");
        return sql<{ v: string }>(need(pg).url, "select version() as v");
      })()
    )[0]?.v ?? "?"
  ).split(" on ")[0] as string;
  const report: Record<string, unknown> = { meta };
  const sections: Array<[string, () => Promise<unknown>]> = [
    ["http", benchHttp],
    ["votes", benchVotes],
    ["fanout", benchFanout],
    ["connections", benchConnections],
  ];
  for (const [name, fn] of sections) {
    if (only && only !== name) continue;
    try {
      report[name] = await fn();
    } catch (e) {
      log(`${name} failed:`, e);
      report[name] = { error: String((e as Error).stack ?? e) };
      for (const z of zephyrs) z.kill("SIGKILL");
      zephyrs.clear();
    }
  }
  (meta as Record<string, unknown>).durationSeconds = Math.round((Date.now() - started) / 1000);
  (meta as Record<string, unknown>).loadAverageAtEnd = cmdVersion("cat", ["/proc/loadavg"]);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(OUT, "REPORT.md"), renderReport(report as never));
  log(`wrote ${join(OUT, "REPORT.md")} and report.json`);
  await cleanup();
  const failed = Object.entries(report).filter(([, v]) => (v as { error?: string })?.error);
  process.exit(failed.length ? 1 : 0);
}

main().catch(async (e) => {
  console.error(e);
  await cleanup();
  process.exit(1);
});
