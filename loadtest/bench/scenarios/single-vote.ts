import { setTimeout as sleep } from "node:timers/promises";
import { Histogram } from "../hist.js";
import { type Instance, newPoll, startBare } from "../instances.js";
import { S } from "../options.js";
import { redisServer } from "../services.js";
import { sourceAddresses, stopWorkers, takeWorker } from "../workers.js";

/**
 * One vote at a time, cross-instance: a voter on the first instance, observers on the others, against two
 * bare socket.io servers with the redis adapter relaying one event.
 */

export async function singleVote(zs: Instance[]) {
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

export async function singleBare() {
  const a = await startBare(["socketio", redisServer().url]);
  const b = await startBare(["socketio", redisServer().url]);
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
