import { api } from "../../../test/zephyr.js";
import { databaseBackendCpuSeconds } from "../counters.js";
import { Histogram } from "../hist.js";
import { NAIVE_ENV, newPoll, startZephyr, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { type CpuUse, cpuWatch } from "../measure.js";
import { S } from "../options.js";
import { sourceAddresses, stopWorkers, takeWorker } from "../workers.js";

/** Durable votes/s on one instance over WebSockets: group commit against one transaction per vote. */

const POLLS = 4;

async function voteRun(naive: boolean) {
  const label = naive ? "votes-naive" : "votes-group";
  const zz = await startZephyr(naive ? NAIVE_ENV : {}, label);
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
  const flushes0 = await groupCommits(zz.url);
  const pgCpu0 = await databaseBackendCpuSeconds(zz.databaseUrl);
  const runs = await Promise.all(
    workers.map((w) => w.call("vote-loop", { durationMs: S.voteSeconds * 1000 })),
  );
  const cpuUsed = cpu();
  const pgCpu = (await databaseBackendCpuSeconds(zz.databaseUrl)) - pgCpu0;
  const flushes = (await groupCommits(zz.url)) - flushes0;
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
    // Inputs of the capacity model (capacity-model.ts): what a vote costs the database, how often it commits
    // (naive mode commits each vote alone: its figure is the cost of one commit).
    unit: {
      flushesPerSecond: Math.round(flushes / (elapsed / 1000)),
      postgresCpuMsPerVote: Math.round((1e6 * pgCpu) / Math.max(1, acks)) / 1e3,
    },
    paced,
    profile,
  };
}

/** Group commits so far: one observation of zephyr_vote_batch_size per committed batch. */
async function groupCommits(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^zephyr_vote_batch_size_count(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

function pacedSummary(
  runs: Array<{ rtt: number[]; errors: number; sent: number; elapsedMs: number }>,
  cpu: CpuUse,
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

export async function benchVotes() {
  log(`votes: ${S.voteClients} clients, closed loop ${S.voteSeconds}s, group commit vs naive`);
  const group = await voteRun(false);
  const naive = await voteRun(true);
  return {
    group,
    naive,
    speedup: Math.round((10 * group.votesPerSec) / Math.max(1, naive.votesPerSec)) / 10,
  };
}
