import { Cluster, type Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CLUSTER_ENV as ENV, startCluster } from "../../test/cluster.js";
import { type RedisCluster, redisModes, startRedisCluster } from "../../test/redis-cluster.js";
import { requireServices, sql } from "../../test/services.js";
import { call, connect, type LiveClient } from "../../test/sockets.js";
import { api, TEST_KEY_PREFIX, waitFor, type ZephyrProcess } from "../../test/zephyr.js";

/**
 * Scaling past one Redis and one busy instance: per-room fan-out (an instance hears only the rooms it has members
 * of), in both Redis modes, checked with the instances' own counters and with Redis's PUBSUB view of who
 * subscribes to what; and a Redis Cluster primary killed under a vote burst.
 */

const ready = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");

const relayChannel = (pollId: string) => `${TEST_KEY_PREFIX}:results:v3:{${pollId}}`;
const adapterChannel = (pollId: string) => `${TEST_KEY_PREFIX}#/#poll:${pollId}#`;

/** Subscribers of a channel: NUMSUB on one Redis; SHARDNUMSUB summed over a cluster's primaries. */
async function subscribers(redis: Redis | Cluster, channel: string): Promise<number> {
  if (redis instanceof Cluster) {
    const counts = await Promise.all(
      redis
        .nodes("master")
        .map(async (n) => Number(((await n.call("PUBSUB", "SHARDNUMSUB", channel)) as [string, number])[1])),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
  return Number(((await redis.call("PUBSUB", "NUMSUB", channel)) as [string, number])[1]);
}

async function relayCounters(z: ZephyrProcess) {
  const text = await (await fetch(`${z.url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(text.match(pattern)?.[1] ?? Number.NaN);
  return {
    published: value(/^zephyr_relay_messages_published_total (\d+)/m),
    peer: value(/^zephyr_relay_messages_received_total\{from="peer"\} (\d+)/m),
    self: value(/^zephyr_relay_messages_received_total\{from="self"\} (\d+)/m),
  };
}

interface Poll {
  id: string;
  roomCode: string;
  hostToken: string;
}

async function newPoll(base: string): Promise<Poll> {
  return (await api(base, "/api/polls", { body: { question: "Fan-out?", options: ["a", "b", "c"] } })).body;
}

async function member(url: string, roomCode: string, nickname: string) {
  const c = await connect(url);
  const r = await call(c, "join-poll", { roomCode, nickname });
  if (!r.ok) throw new Error(`join failed: ${JSON.stringify(r)}`);
  return Object.assign(c, { token: r.data.participantToken as string, participantId: r.data.participantId });
}

describe.runIf(ready && pgUrl).each(redisModes())("per-room fan-out over $mode", ({ mode, env, client }) => {
  const ROOMS = 30;
  const MEMBERS = 3;
  const VOTERS = 12;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let redis: Redis | Cluster;
  const members: LiveClient[] = [];

  beforeAll(async () => {
    cluster = await startCluster(pgUrl!, { ...ENV, ...env });
    redis = client();
  });
  afterAll(async () => {
    for (const m of members) m.disconnect();
    redis?.disconnect();
    await cluster?.stop();
  });

  it("30 rooms, each with members on one instance only: each instance hears only its own rooms", async () => {
    const instances = cluster.instances;
    const home = (k: number) => instances[k % 3] as ZephyrProcess;
    const polls = await Promise.all(Array.from({ length: ROOMS }, (_, k) => newPoll(home(k + 1).url)));
    const roomMembers = await Promise.all(
      polls.map((p, k) =>
        Promise.all(Array.from({ length: MEMBERS }, (_, i) => member(home(k).url, p.roomCode, `m${k}-${i}`))),
      ),
    );
    members.push(...roomMembers.flat());
    // Every room's subscriptions are in place: one subscriber per room channel, its home instance.
    await waitFor(
      async () => {
        for (const p of polls) if ((await subscribers(redis, relayChannel(p.id))) !== 1) return false;
        return true;
      },
      { what: "one relay subscriber per room", timeoutMs: 10_000 },
    );
    const before = await Promise.all(instances.map(relayCounters));

    // Voters join and vote over HTTP on the two instances that are not the room's home: every commit is made
    // where the room has no members, so every update its members see came through Redis.
    await Promise.all(
      polls.map(async (p, k) => {
        for (let v = 0; v < VOTERS; v++) {
          const at = home(k + 1 + (v % 2)).url;
          const joined = await api(at, `/api/polls/${p.roomCode}/participants`, {
            body: { nickname: `v${v}` },
          });
          expect(joined.status).toBe(201);
          const vote = await api(at, `/api/polls/${p.roomCode}/votes`, {
            body: { optionIndex: v % 3 },
            token: joined.body.participantToken,
          });
          expect(vote.status).toBe(200);
        }
      }),
    );
    await waitFor(
      async () => roomMembers.every((ms) => ms.every((m) => m.updates.at(-1)?.total === VOTERS)),
      { what: "every member sees its room's final counts", timeoutMs: 20_000 },
    );
    await new Promise((r) => setTimeout(r, 500));
    const after = await Promise.all(instances.map(relayCounters));
    const delta = after.map((a, i) => ({
      published: a.published - (before[i]?.published ?? 0),
      peer: a.peer - (before[i]?.peer ?? 0),
      self: a.self - (before[i]?.self ?? 0),
    }));
    const published = delta.reduce((n, d) => n + d.published, 0);
    const received = delta.reduce((n, d) => n + d.peer + d.self, 0);
    console.info(
      `fan-out over ${mode}: ${published} published, ${received} received; per instance ${JSON.stringify(delta)}`,
    );
    // Each instance published news of rooms it has no members of, and heard its own rooms' news from the others.
    for (const d of delta) {
      expect(d.published).toBeGreaterThan(0);
      expect(d.peer).toBeGreaterThan(0);
      expect(d.self, "no instance committed for its own rooms").toBe(0);
    }
    // Every message reached exactly one instance, the room's home: the broadcast-to-all design delivered each to
    // all three.
    expect(received).toBe(published);
    for (const p of polls) {
      expect(await subscribers(redis, relayChannel(p.id)), p.roomCode).toBe(1);
      // The Socket.IO adapter's room channels too, on a cluster (the sharded adapter's dynamic subscriptions).
      if (mode === "a Redis Cluster") expect(await subscribers(redis, adapterChannel(p.id))).toBe(1);
    }

    // The last member of a room leaving ends its subscription there.
    const gone = polls.filter((_, k) => k % 3 === 2);
    for (const [k, ms] of roomMembers.entries()) if (k % 3 === 2) for (const m of ms) m.disconnect();
    await waitFor(
      async () => {
        for (const p of gone) if ((await subscribers(redis, relayChannel(p.id))) !== 0) return false;
        return true;
      },
      { what: "no subscriber left for rooms without members", timeoutMs: 10_000 },
    );
    for (const [k, p] of polls.entries())
      if (k % 3 !== 2) expect(await subscribers(redis, relayChannel(p.id))).toBe(1);
  });
});

describe.runIf(ready && pgUrl)("a Redis Cluster primary killed mid-burst", () => {
  let redisCluster: RedisCluster;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  beforeAll(async () => {
    redisCluster = await startRedisCluster();
    // No periodic resync within the test: updates after the failover can only have come through the relay.
    cluster = await startCluster(pgUrl!, {
      ...ENV,
      REDIS_CLUSTER_NODES: redisCluster.nodes,
      RESULTS_RESYNC_MS: "600000",
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await redisCluster?.destroy();
  });

  it("loses no acknowledged vote, and updates resume on every instance after the replica takes over", async () => {
    const instances = cluster.instances as [ZephyrProcess, ZephyrProcess, ZephyrProcess];
    const poll = await newPoll(instances[0].url);
    const people = await Promise.all(
      Array.from({ length: 150 }, (_, i) => member(instances[i % 3]!.url, poll.roomCode, `p${i}`)),
    );
    const observers = await Promise.all(instances.map((z, i) => member(z.url, poll.roomCode, `obs${i}`)));
    const sent = new Map<string, number[]>();
    const lastAcked = new Map<string, number>();
    const ackedAt: number[] = [];
    let stopped = false;
    const loops = people.map(async (p, i) => {
      for (let round = 0; !stopped; round++) {
        const option = (i + round) % 3;
        const list = sent.get(p.participantId) ?? [];
        list.push(option);
        sent.set(p.participantId, list);
        const r = await call(p, "submit-vote", { optionIndex: option }, 5000).catch(() => undefined);
        if (r?.ok) {
          lastAcked.set(p.participantId, list.length - 1);
          ackedAt.push(Date.now());
        } else await new Promise((res) => setTimeout(res, 50));
      }
    });
    const primary = await redisCluster.primaryOf(relayChannel(poll.id));
    let killedAt = 0;
    let failoverMs = 0;
    try {
      await waitFor(async () => ackedAt.length >= 300, { what: "a burst under way", timeoutMs: 20_000 });
      killedAt = Date.now();
      await redisCluster.kill(primary);
      const promoted = await redisCluster.waitForFailover(relayChannel(poll.id), primary);
      failoverMs = Date.now() - killedAt;
      console.info(
        `primary ${primary} killed; replica ${promoted} serves the room's slot after ${failoverMs} ms`,
      );
      // The stream goes on across the failover and for a while after it.
      await waitFor(async () => ackedAt.filter((t) => t > killedAt + failoverMs).length >= 300, {
        what: "votes acknowledged after the failover",
        timeoutMs: 30_000,
      });
    } finally {
      stopped = true;
      await Promise.all(loops);
    }
    // Acknowledged means committed: each participant's stored vote is its last acknowledged one, or one sent
    // after it whose ack was lost.
    const stored = await sql<{ participant_id: string; option_position: number }>(
      cluster.dbUrl,
      "SELECT participant_id, option_position FROM votes WHERE poll_id = $1",
      [poll.id],
    );
    const byParticipant = new Map(stored.map((r) => [r.participant_id, r.option_position]));
    for (const [id, index] of lastAcked) {
      const options = sent.get(id) as number[];
      expect(options.slice(index), id).toContain(byParticipant.get(id));
    }
    // Updates resume through the relay by themselves: a vote on one instance reaches the observers on the
    // other two, with the final counts, without any instance restarted.
    const final = (await api(instances[1].url, `/api/polls/${poll.roomCode}/results`)).body;
    const late = await member(instances[0].url, poll.roomCode, "late");
    const lateSentAt = Date.now();
    expect((await call(late, "submit-vote", { optionIndex: 2 })).ok).toBe(true);
    for (const o of observers)
      await waitFor(async () => o.updates.at(-1)?.total === final.total + 1, {
        what: "the late vote on every instance",
        timeoutMs: 4000,
        intervalMs: 10,
      });
    const lateMs = Math.max(...observers.map((o) => (o.updateTimes.at(-1) ?? 0) - lateSentAt));
    console.info(
      `failover burst: ${ackedAt.length} acknowledged (${ackedAt.filter((t) => t > killedAt).length} after the kill), ` +
        `${lastAcked.size} participants checked against the database; a vote after it reached every instance in ${lateMs} ms`,
    );
    for (const z of instances) {
      expect(z.child.exitCode).toBeNull();
      expect(z.output()).not.toMatch(/unhandled promise rejection/);
      expect((await api(z.url, "/api/health/ready")).status).toBe(200);
    }
    for (const c of [...people, ...observers, late]) c.disconnect();
  }, 120_000);
});
