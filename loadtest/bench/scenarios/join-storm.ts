import { databaseActivity, databaseBackendCpuSeconds, perUnit, redisActivity } from "../counters.js";
import { Histogram } from "../hist.js";
import { newPoll, startBare, startZephyr, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { cpuSeconds, cpuWatch, openFileLimit } from "../measure.js";
import { S } from "../options.js";
import { redisServer } from "../services.js";
import { connectAcross, PER_WORKER, stopWorkers, takeWorker } from "../workers.js";

/**
 * A crowd joining one poll at once (a room code shown on a screen): clients connect and join as fast as one
 * instance takes them. The baseline is bare socket.io taking the same clients from the same workers, each
 * acknowledging a join-sized payload without a database.
 */

// Descriptors a server needs besides one per client: database pool, Redis, logs, profiler, listening socket.
const SERVER_FD_MARGIN = 1000;

function requireOpenFiles(clients: number) {
  const limit = openFileLimit();
  if (!(limit >= clients + SERVER_FD_MARGIN))
    throw new Error(
      `open-file limit ${limit} (ulimit -n) is below the ${clients + SERVER_FD_MARGIN} descriptors one server needs for ${clients} clients; raise it (ulimit -n) or shrink stormClients`,
    );
}

interface ConnectRun {
  connected: number;
  failed: number;
  startedAt: number;
  lastReadyAt: number;
  connectMs: Array<[number, number]>;
  joinAckMs: Array<[number, number]>;
  firstError?: string;
}

async function storm(
  target: { url: string; pid: number },
  roomCode: string,
  whileJoined: () => Promise<void> = async () => undefined,
) {
  const nWorkers = Math.max(S.stormWorkers, Math.ceil(S.stormClients / PER_WORKER));
  const workers = Array.from({ length: nWorkers }, takeWorker);
  // A worker still loading TypeScript would join late and stretch the storm; start once all answer.
  await Promise.all(workers.map((w) => w.call("count")));
  const cpu = cpuWatch({ server: [target.pid], clients: workers.map((w) => w.child.pid as number) });
  const serverCpu0 = cpuSeconds(target.pid);
  const runs = await connectAcross<ConnectRun>(workers, {
    urls: [target.url],
    total: S.stormClients,
    roomCode,
    concurrency: S.stormConcurrency,
  });
  const cpuUsed = cpu();
  const serverCpu = cpuSeconds(target.pid) - serverCpu0;
  await whileJoined();
  await stopWorkers(workers);
  const joined = runs.reduce((a, r) => a + r.connected, 0);
  // Worker clocks share performance.timeOrigin's wall clock, so the storm runs from the earliest first connect
  // to the latest last join, whichever worker they were in.
  const seconds =
    (Math.max(...runs.map((r) => r.lastReadyAt)) - Math.min(...runs.map((r) => r.startedAt))) / 1000;
  const connect = new Histogram();
  const joinAck = new Histogram();
  for (const r of runs) {
    connect.merge(Histogram.fromSparse(r.connectMs));
    joinAck.merge(Histogram.fromSparse(r.joinAckMs));
  }
  return {
    requested: S.stormClients,
    clientWorkers: nWorkers,
    concurrency: S.stormConcurrency * nWorkers,
    joined,
    failed: runs.reduce((a, r) => a + r.failed, 0),
    firstError: runs.find((r) => r.firstError)?.firstError,
    seconds: Math.round(seconds * 100) / 100,
    joinsPerSec: Math.round(joined / Math.max(0.001, seconds)),
    connect: connect.summary(),
    joinAck: joinAck.summary(),
    // Per join rather than per second: a rate on a shared machine depends on what else ran; this less so.
    serverCpuMsPerJoin: Math.round((1e4 * serverCpu) / Math.max(1, joined)) / 10,
    cpu: cpuUsed,
  };
}

/**
 * Rounds alternate Zephyr and bare socket.io, each on fresh processes and a fresh poll: on a shared machine
 * either rate drifts by ±20 % from one run to the next, so one pair is a coin toss and the median pair is the
 * figure (every round is reported).
 */
export async function benchJoinStorm() {
  requireOpenFiles(S.stormClients);
  const rounds = [];
  for (let i = 1; i <= S.stormRounds; i++) rounds.push(await joinStormRound(i));
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];
  return {
    ...median,
    rounds: rounds.map((r) => ({
      zephyrJoinsPerSec: r.zephyr.joinsPerSec,
      bareJoinsPerSec: r.bareSocketIo.joinsPerSec,
      ratio: r.ratio,
    })),
  };
}

async function joinStormRound(round: number) {
  log(
    `join storm round ${round}/${S.stormRounds}: ${S.stormClients} clients join one poll on one instance, then bare socket.io`,
  );
  // The poll is created by an instance that is stopped before the storm: its backends then flush their
  // statistics, so the database counters read next hold no start-up or migration work.
  const setup = await startZephyr({}, `storm-setup-${round}`, { profile: false });
  const poll = await newPoll(setup.url);
  await stopZephyrs([setup], `storm-setup-${round}`);
  const db0 = await databaseActivity(setup.databaseUrl);
  // With Redis, as deployed: the join rate limit, sessions and the adapter all use it.
  const zz = await startZephyr({ REDIS_URL: redisServer().url }, `storm-${round}`, {
    databaseUrl: setup.databaseUrl,
  });
  const redis0 = await redisActivity();
  const backendCpu0 = await databaseBackendCpuSeconds(zz.databaseUrl);
  let redis1 = redis0;
  let backendCpu = 0;
  // Read before the clients leave: each disconnect writes its session to Redis too.
  const zephyr = await storm({ url: zz.url, pid: zz.child.pid as number }, poll.roomCode, async () => {
    redis1 = await redisActivity();
    backendCpu = (await databaseBackendCpuSeconds(zz.databaseUrl)) - backendCpu0;
  });
  const [profile] = await stopZephyrs([zz], `storm-${round}`);
  const db1 = await databaseActivity(zz.databaseUrl);
  const bare = await startBare(["socketio"]);
  const baseline = await storm({ url: bare.url, pid: bare.pid }, "bench");
  await bare.stop();
  return {
    clients: S.stormClients,
    clientWorkers: zephyr.clientWorkers,
    concurrency: zephyr.concurrency,
    zephyr,
    bareSocketIo: baseline,
    ratio: Math.round((100 * zephyr.joinsPerSec) / Math.max(1, baseline.joinsPerSec)) / 100,
    perJoin: {
      database: perUnit(db0, db1, zephyr.joined),
      redisCommands: perUnit(redis0.commands, redis1.commands, zephyr.joined),
      // Backends that started after the storm's first reading are counted whole, start-up included.
      postgresCpuMs: Math.round((1e4 * backendCpu) / Math.max(1, zephyr.joined)) / 10,
      redisCpuMs:
        Math.round((1e4 * (redis1.cpuSeconds - redis0.cpuSeconds)) / Math.max(1, zephyr.joined)) / 10,
    },
    profile,
  };
}
