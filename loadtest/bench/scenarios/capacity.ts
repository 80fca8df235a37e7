import { setTimeout as sleep } from "node:timers/promises";
import { CHART_FLEET, perPodAt, type UnitCosts, unitCosts, type Workload } from "../capacity-model.js";
import { postgresServerCpuSeconds, redisActivity } from "../counters.js";
import { Histogram } from "../hist.js";
import { type Instance, newPoll, startZephyrs, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { cpuWatch, mb, rssBytes } from "../measure.js";
import { S } from "../options.js";
import { PER_WORKER, sourceAddresses, stopWorkers, takeWorker } from "../workers.js";

/**
 * The capacity model's anchor: the largest crowd this machine holds (three instances as pods, one Redis, one
 * PostgreSQL, clients in separate processes under the open-file limit), in rooms of a realistic size, each
 * room's members spread over every instance as a load balancer spreads them, answering a question at a pace
 * the shared cores sustain. The model (capacity-model.ts) predicts the same run from the unit costs the
 * single-purpose sections measured, and the report sets prediction and measurement side by side.
 */

// biome-ignore lint/suspicious/noExplicitAny: reads report.json, whose shape bench.ts defines and bench.test.ts checks.
type Any = any;

const PODS = 3;
const STRIDE = 7919;

const relayFromPeers = async (z: Instance) => {
  const text = await (await fetch(`${z.url}/metrics`)).text();
  return Number(/^zephyr_relay_messages_received_total\{from="peer"\} (\d+)/m.exec(text)?.[1] ?? 0);
};

/** The unit costs of the report's other sections: this run's, or the report's own when this section runs alone. */
function costsFor(report: Any): { costs?: UnitCosts; from: string } {
  const costs = unitCosts(report);
  if (!costs) return { from: "none (the sections they come from did not run)" };
  const alone = (report.meta?.rerun ?? []).some((r: Any) => r.section === "capacity");
  return { costs, from: alone ? `the report's other sections (run of ${report.meta.date})` : "this run" };
}

export async function benchCapacity(report: Any) {
  const { capacityParticipants: participants, capacityRoomSize: roomSize } = S;
  const { capacityAnswerWindowS: answerWindowS, capacitySeconds: seconds } = S;
  const rooms = Math.ceil(participants / roomSize);
  log(
    `capacity: ${participants} participants in ${rooms} rooms of ${roomSize} over ${PODS} instances, everyone answering within ${answerWindowS}s, ${seconds}s`,
  );
  const zs = await startZephyrs(PODS, {}, "capacity", { profile: false });
  const urls = zs.map((z) => z.url);
  const nWorkers = Math.max(1, Math.ceil(participants / PER_WORKER));
  const workers = Array.from({ length: nWorkers }, takeWorker);
  try {
    const polls = await Promise.all(
      Array.from({ length: rooms }, (_, k) => newPoll(urls[k % PODS] as string, true)),
    );
    const roomCodes = polls.map((p) => p.roomCode);
    const per = Math.ceil(participants / nWorkers);
    const t0 = performance.now();
    const connected = await Promise.all(
      workers.map((w, i) =>
        w.call("connect", {
          urls,
          count: Math.min(per, participants - i * per),
          indexOffset: i * per,
          roomCodes,
          localAddresses: sourceAddresses(i),
          concurrency: 100,
        }),
      ),
    );
    const joined = connected.reduce((a, c) => a + c.connected, 0);
    const joinSeconds = (performance.now() - t0) / 1000;
    if (joined < participants)
      throw new Error(`only ${joined}/${participants} joined: ${connected[0].firstError}`);
    await sleep(2000);
    const rss = zs.map((z) => mb(rssBytes(z.child.pid as number)));
    // The crowd between questions: connected, nobody answering.
    const idle = cpuWatch(
      Object.fromEntries(zs.map((z, i) => [`instance${i + 1}`, [z.child.pid as number]])),
    );
    await sleep(S.capacityIdleSeconds * 1000);
    const idleUsed = idle();
    const idleCores = zs.map((_, i) => (idleUsed[`instance${i + 1}CorePct`] ?? 0) / 100);

    const relay0 = await Promise.all(zs.map(relayFromPeers));
    const redis0 = await redisActivity();
    const pg0 = await postgresServerCpuSeconds();
    await Promise.all(workers.map((w) => w.call("tally", { on: true })));
    const cpu = cpuWatch({
      ...Object.fromEntries(zs.map((z, i) => [`instance${i + 1}`, [z.child.pid as number]])),
      clients: workers.map((w) => w.child.pid as number),
    });
    const started = performance.now();
    const votesPerSecond = participants / answerWindowS;
    const runs = await Promise.all(
      workers.map((w) =>
        w.call("vote-paced", {
          ratePerSec: votesPerSecond / nWorkers,
          durationMs: seconds * 1000,
          // A prime stride: consecutive votes go to different rooms, as independent people's answers do.
          stride: STRIDE,
        }),
      ),
    );
    // Updates of the last votes still on their way are part of the same work.
    await sleep(500);
    const elapsed = (performance.now() - started) / 1000;
    const cpuUsed = cpu();
    const messages = (await Promise.all(workers.map((w) => w.call("tally", { on: false })))).reduce(
      (a: number, t: { messages: number }) => a + t.messages,
      0,
    );
    const pgCpu = (await postgresServerCpuSeconds()) - pg0;
    const redis1 = await redisActivity();
    const relay1 = await Promise.all(zs.map(relayFromPeers));
    const ack = new Histogram();
    for (const r of runs) for (const v of r.rtt as number[]) ack.add(v);
    const acked = runs.reduce((a, r) => a + r.rtt.length, 0);
    const sent = runs.reduce((a, r) => a + r.sent, 0);
    const instanceCores = zs.map((_, i) => (cpuUsed[`instance${i + 1}CorePct`] ?? 0) / 100);

    const measured = {
      rssMBPerPod: avg(rss),
      idleCoresPerPod: avg(idleCores),
      messagesPerSecond: messages / elapsed,
      relayInPerSecondPerPod: avg(relay1.map((v, i) => (v - (relay0[i] ?? 0)) / elapsed)),
      coresPerPod: avg(instanceCores),
      postgresCores: pgCpu / elapsed,
      redisCores: (redis1.cpuSeconds - redis0.cpuSeconds) / elapsed,
      votesPerSecond: acked / seconds,
    };
    const workload: Workload = { participants, roomSize, answerWindowS, joinWindowS: joinSeconds };
    const { costs, from } = costsFor(report);
    const predicted = costs ? predict(workload, costs) : undefined;
    return {
      pods: PODS,
      participants,
      joined,
      rooms,
      roomSize,
      answerWindowS,
      seconds: round(elapsed, 1),
      joinSeconds: round(joinSeconds, 1),
      votesSent: sent,
      votesAcked: acked,
      voteErrors: runs.reduce((a, r) => a + r.errors, 0),
      ack: ack.summary(),
      rssMB: rss,
      cpu: cpuUsed,
      costsFrom: from,
      measured: roundAll(measured),
      predicted: predicted && roundAll(predicted),
    };
  } finally {
    await stopWorkers(workers);
    await stopZephyrs(zs, "capacity");
  }
}

/** The model's figures for this very run: its pod count, its crowd, its pace. */
function predict(w: Workload, u: UnitCosts) {
  const at = perPodAt(w, u, CHART_FLEET, PODS);
  const votesPerSecond = w.participants / w.answerWindowS;
  return {
    rssMBPerPod: at.perPod.rssMB,
    idleCoresPerPod: (at.perPod.connections * u.idleCpuMsPerConnSecond) / 1000,
    messagesPerSecond: at.perPod.messagesPerSecond * PODS,
    relayInPerSecondPerPod: at.perPod.relayInPerSecond,
    coresPerPod: at.perPod.peakCores,
    postgresCores: (at.commitsPerSecond * u.pgCpuMsPerCommit) / 1000,
    redisCores: (at.rooms * at.publishesPerRoom * at.holders * u.redisCpuMsPerDelivery) / 1000,
    votesPerSecond,
  };
}

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const roundAll = <T extends Record<string, number>>(o: T): T =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)])) as T;
