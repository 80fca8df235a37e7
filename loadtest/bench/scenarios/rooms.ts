import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { call, connect, type LiveClient } from "../../../test/sockets.js";
import { api, TEST_KEY_PREFIX } from "../../../test/zephyr.js";
import { redisActivity } from "../counters.js";
import { type Instance, newPoll, startZephyrs, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { S } from "../options.js";
import { redisServer } from "../services.js";

/**
 * Busy rooms over three instances: how many Redis messages each instance receives per second with per-room
 * fan-out, against the broadcast-to-all design in the same run. Each room's members are on one instance; votes
 * arrive over HTTP on every instance (round robin), so two thirds of each room's commits are made elsewhere than
 * its members. The baseline is a Redis subscriber to every room channel (PSUBSCRIBE): what each instance received
 * when every snapshot went to every instance.
 */

const metric = async (z: Instance) => {
  const text = await (await fetch(`${z.url}/metrics`)).text();
  const value = (re: RegExp) => Number(text.match(re)?.[1] ?? 0);
  return {
    received:
      value(/^zephyr_relay_messages_received_total\{from="peer"\} (\d+)/m) +
      value(/^zephyr_relay_messages_received_total\{from="self"\} (\d+)/m),
    published: value(/^zephyr_relay_messages_published_total (\d+)/m),
  };
};

export async function benchRooms() {
  const { roomsCount: rooms, roomMembers, roomVoters, roomRate, roomSeconds } = S;
  log(`rooms: ${rooms} busy rooms over 3 instances, ${roomRate} votes/s for ${roomSeconds}s`);
  const zs = await startZephyrs(3, {}, "rooms", { profile: false });
  const listener = new Redis(redisServer().url);
  const members: LiveClient[] = [];
  try {
    const polls = await Promise.all(
      Array.from({ length: rooms }, (_, k) => newPoll((zs[(k + 1) % 3] as Instance).url, true)),
    );
    for (const [k, p] of polls.entries()) {
      const home = (zs[k % 3] as Instance).url;
      const joined = await Promise.all(
        Array.from({ length: roomMembers }, async (_, i) => {
          const c = await connect(home);
          const r = await call(c, "join-poll", { roomCode: p.roomCode, nickname: `m${i}` });
          if (!r.ok) throw new Error(`join: ${JSON.stringify(r)}`);
          return c;
        }),
      );
      members.push(...joined);
    }
    const voters = await Promise.all(
      polls.flatMap((p, k) =>
        Array.from({ length: roomVoters }, async (_, v) => {
          const at = (zs[(k + v) % 3] as Instance).url;
          const r = await api(at, `/api/polls/${p.roomCode}/participants`, { body: { nickname: `v${v}` } });
          if (r.status !== 201) throw new Error(`voter join: ${r.status}`);
          return { roomCode: p.roomCode, token: r.body.participantToken as string, k, v };
        }),
      ),
    );
    let broadcast = 0;
    listener.on("pmessage", () => broadcast++);
    await listener.psubscribe(`${TEST_KEY_PREFIX}:results:v3:*`);
    await sleep(500);
    const before = await Promise.all(zs.map(metric));
    const startBroadcast = broadcast;
    const t0 = Date.now();
    const total = roomRate * roomSeconds;
    let sent = 0;
    let acked = 0;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / roomRate;
      if (due > Date.now()) await sleep(due - Date.now());
      const voter = voters[i % voters.length] as (typeof voters)[number];
      const at = (zs[i % 3] as Instance).url;
      sent++;
      const p = api(at, `/api/polls/${voter.roomCode}/votes`, {
        body: { optionIndex: (i >> 3) % 4 },
        token: voter.token,
      })
        .then((r) => {
          if (r.status === 200) acked++;
        })
        .catch(() => undefined)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    const seconds = (Date.now() - t0) / 1000;
    await sleep(1000);
    const after = await Promise.all(zs.map(metric));
    const window = seconds + 1;
    const perInstance = after.map((a, i) => Math.round((a.received - (before[i]?.received ?? 0)) / window));
    const published = after.reduce((n, a, i) => n + a.published - (before[i]?.published ?? 0), 0);
    const broadcastPerSec = Math.round((broadcast - startBroadcast) / window);
    const mean = perInstance.reduce((a, b) => a + b, 0) / perInstance.length;
    return {
      rooms,
      membersPerRoom: roomMembers,
      votersPerRoom: roomVoters,
      votesSent: sent,
      votesAcked: acked,
      targetRate: roomRate,
      seconds: Math.round(seconds * 10) / 10,
      publishedPerSec: Math.round(published / window),
      receivedPerInstancePerSec: perInstance,
      broadcastToAllPerInstancePerSec: broadcastPerSec,
      ratio: Math.round((10 * broadcastPerSec) / Math.max(1, mean)) / 10,
      redisCpuMsPerDelivery: await redisDeliveryCost(),
    };
  } finally {
    for (const m of members) m.close();
    listener.disconnect();
    await stopZephyrs(zs, "rooms");
  }
}

/**
 * An input of the capacity model: Redis CPU per pub/sub message delivered, alone (the rooms run above also carries
 * rate limits and presence). Three subscribers, like three instances holding a room, and a relay-sized message.
 */
async function redisDeliveryCost(): Promise<number> {
  const url = redisServer().url;
  const channel = `${TEST_KEY_PREFIX}:bench:delivery`;
  const subscribers = [0, 1, 2].map(() => new Redis(url));
  const publisher = new Redis(url);
  let received = 0;
  try {
    for (const s of subscribers) {
      s.on("message", () => received++);
      await s.subscribe(channel);
    }
    // A results snapshot as the relay sends it: a few hundred bytes of JSON.
    const message = JSON.stringify({
      from: "0".repeat(36),
      message: { kind: "results", snapshot: { pad: "x".repeat(360) } },
    });
    const publishes = S.roomDeliveryProbe;
    const before = await redisActivity();
    for (let i = 0; i < publishes; i += 500) {
      const batch = publisher.pipeline();
      for (let j = i; j < Math.min(publishes, i + 500); j++) batch.publish(channel, message);
      await batch.exec();
    }
    for (let i = 0; i < 200 && received < publishes * subscribers.length; i++) await sleep(50);
    const after = await redisActivity();
    return Math.round((1e6 * (after.cpuSeconds - before.cpuSeconds)) / Math.max(1, received)) / 1e3;
  } finally {
    for (const s of subscribers) s.disconnect();
    publisher.disconnect();
  }
}
