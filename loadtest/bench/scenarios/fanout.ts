import { setTimeout as sleep } from "node:timers/promises";
import { api } from "../../../test/zephyr.js";
import { Histogram } from "../hist.js";
import { type Instance, NAIVE_ENV, newPoll, startZephyrs, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { cpuWatch } from "../measure.js";
import { QUICK, S } from "../options.js";
import { connectAcross, PER_WORKER, stopWorkers, takeWorker } from "../workers.js";
import { singleBare, singleVote } from "./single-vote.js";

/** One room over three instances: vote→update latency and messages per participant, coalesced vs naive. */

async function fanoutRun(zs: Instance[], participants: number, rate: number, seconds: number) {
  const urls = zs.map((z) => z.url);
  const poll = await newPoll(urls[0] as string);
  const nObs = Math.max(1, Math.ceil(participants / PER_WORKER) + (participants > 1000 ? 1 : 0));
  const observers = Array.from({ length: nObs }, takeWorker);
  const voter = takeWorker();
  await connectAcross(observers, { urls, total: participants, roomCode: poll.roomCode, concurrency: 100 });
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
    // The CPU figures cover voting and the drain after it: the capacity model divides by this window.
    cpuWindowSeconds: Math.round((windowEnd - windowStart) / 100) / 10,
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

export async function benchFanout() {
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
