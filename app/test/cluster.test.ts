import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CLUSTER_ENV, startCluster as startSharedCluster } from "../../test/cluster.js";
import { redisModes } from "../../test/redis-cluster.js";
import { type RedisServer, requireServices, sql, startRedis } from "../../test/services.js";
import { call, connect, type LiveClient, startTcpBalancer } from "../../test/sockets.js";
import { api, waitFor, type ZephyrProcess } from "../../test/zephyr.js";

/**
 * Three compiled instances on loopback with real PostgreSQL and Redis, driven by real socket.io clients:
 * the scale-out behaviour the product promises.
 */

const ready = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const sharedRedis = inject("redisUrl");
/** The same suite on one Redis (REDIS_URL) and on a Redis Cluster of 3 primaries with replicas (sharded pub/sub). */
const REDIS_MODES = redisModes();

const startCluster = (env: Record<string, string>) => startSharedCluster(pgUrl!, { ...CLUSTER_ENV, ...env });

async function newPoll(base: string, body: Record<string, unknown> = {}) {
  return (
    await api(base, "/api/polls", { body: { question: "Scale?", options: ["a", "b", "c", "d"], ...body } })
  ).body as {
    id: string;
    roomCode: string;
    hostToken: string;
  };
}

async function joined(url: string, roomCode: string, nickname: string) {
  const c = await connect(url);
  const r = await call(c, "join-poll", { roomCode, nickname });
  if (!r.ok) throw new Error(`join failed: ${JSON.stringify(r)}`);
  return Object.assign(c, {
    token: r.data.participantToken as string,
    participantId: r.data.participantId as string,
  });
}

async function whichInstance(instances: ZephyrProcess[], expected: number): Promise<number[]> {
  return Promise.all(
    instances.map(async (z) => (await api(z.url, "/api/health")).body.connections as number),
  ).then((c) => {
    if (c.reduce((a, b) => a + b, 0) !== expected)
      throw new Error(`expected ${expected} connections, saw ${c}`);
    return c;
  });
}

/**
 * Every participant votes in a loop, changing its option each round, and records what it sent and which of
 * those were acknowledged: the durability check is that the stored vote is the last acknowledged one or one
 * sent after it (committed while its ack was lost).
 */
function startVoteStream(people: Array<LiveClient & { participantId: string }>) {
  const sent = new Map<string, number[]>();
  const lastAcked = new Map<string, number>();
  let stopped = false;
  const loops = people.map(async (p, i) => {
    for (let round = 0; !stopped; round++) {
      const option = (i + round) % 4;
      const list = sent.get(p.participantId) ?? [];
      list.push(option);
      sent.set(p.participantId, list);
      const r = await call(p, "submit-vote", { optionIndex: option }, 3000).catch(() => undefined);
      if (r?.ok) lastAcked.set(p.participantId, list.length - 1);
      else await new Promise((res) => setTimeout(res, 50));
    }
  });
  return {
    sent,
    lastAcked,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

describe.runIf(ready && pgUrl && sharedRedis)("three instances with Redis", () => {
  describe.each(REDIS_MODES)("shared instances over $mode", ({ env }) => {
    let cluster: Awaited<ReturnType<typeof startCluster>>;
    const clients: LiveClient[] = [];
    beforeAll(async () => {
      cluster = await startCluster(env);
    });
    afterAll(async () => {
      for (const c of clients) c.disconnect();
      await cluster?.stop();
    });

    it("delivers a vote on A to participants on B and C, and a host close via HTTP on C to sockets on A", async () => {
      const [A, B, C] = cluster.instances as [ZephyrProcess, ZephyrProcess, ZephyrProcess];
      const poll = await newPoll(A.url);
      const a = await joined(A.url, poll.roomCode, "on-a");
      const b = await joined(B.url, poll.roomCode, "on-b");
      const c = await joined(C.url, poll.roomCode, "on-c");
      clients.push(a, b, c);
      const sentAt = Date.now();
      expect(await call(a, "submit-vote", { optionIndex: 3 })).toEqual({
        ok: true,
        data: { optionIndex: 3 },
      });
      for (const peer of [b, c]) {
        await waitFor(async () => peer.updates.at(-1)?.total === 1, {
          what: "cross-instance vote-update",
          timeoutMs: 5000,
          intervalMs: 5,
        });
        expect(peer.updates.at(-1)).toMatchObject({
          roomCode: poll.roomCode,
          counts: [0, 0, 0, 1],
          participants: 3,
        });
      }
      console.info(
        `cross-instance vote-update within ${Math.max(...[b, c].map((p) => (p.updateTimes.at(-1) ?? 0) - sentAt))} ms`,
      );
      expect(
        (await api(C.url, `/api/polls/${poll.roomCode}/close`, { method: "POST", token: poll.hostToken }))
          .status,
      ).toBe(200);
      await waitFor(async () => a.states.at(-1)?.status === "closed", {
        what: "poll-state on A",
        timeoutMs: 5000,
      });
      expect(await call(b, "submit-vote", { optionIndex: 0 })).toMatchObject({
        ok: false,
        error: { code: "POLL_CLOSED" },
      });
    });

    it("1,000 participants over 3 instances voting at once: exact counts, bounded messages, seq never backwards", async () => {
      const poll = await newPoll(cluster.instances[0]!.url);
      const N = 1000;
      const people: Array<Awaited<ReturnType<typeof joined>>> = [];
      for (let i = 0; i < N; i += 100) {
        people.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(100, N - i) }, (_, j) =>
              joined(cluster.instances[(i + j) % 3]!.url, poll.roomCode, `p${i + j}`),
            ),
          )),
        );
      }
      clients.push(...people);
      expect(await whichInstance(cluster.instances, clients.filter((c) => c.connected).length)).toBeTruthy();
      // presence settles first, so the burst below is measured on votes alone
      await waitFor(
        async () =>
          (await api(cluster.instances[2]!.url, `/api/polls/${poll.roomCode}/results`)).body.online === N,
        { what: "everyone online", timeoutMs: 15_000 },
      );
      await new Promise((r) => setTimeout(r, 1500));
      for (const p of people) {
        p.updates.length = 0;
        p.updateTimes.length = 0;
      }

      const burstStart = Date.now();
      const acks = await Promise.all(
        people.map((p, i) => call(p, "submit-vote", { optionIndex: i % 4 }, 30_000)),
      );
      const ackedAt = Date.now();
      expect(acks.filter((a) => !a.ok)).toEqual([]);

      const expected = [250, 250, 250, 250];
      await waitFor(async () => people.every((p) => p.updates.at(-1)?.total === N), {
        what: "every participant sees the final counts",
        timeoutMs: 20_000,
      });
      // settle: nothing else may arrive after the final counts
      await new Promise((r) => setTimeout(r, 500));
      const rows = await sql<{ option_position: number; n: number }>(
        cluster.dbUrl,
        "SELECT option_position, count(*)::int AS n FROM votes WHERE poll_id = $1 GROUP BY option_position ORDER BY option_position",
        [poll.id],
      );
      expect(rows.map((r) => r.n)).toEqual(expected);
      expect(
        (await api(cluster.instances[1]!.url, `/api/polls/${poll.roomCode}/results`)).body.counts,
      ).toEqual(expected);

      let maxMessages = 0;
      let maxInAnySecond = 0;
      for (const p of people) {
        const last = p.updates.at(-1)!;
        expect(last.counts).toEqual(expected);
        // an online change re-sends the same seq; counts never go back
        for (let i = 1; i < p.updates.length; i++)
          expect(p.updates[i]!.seq).toBeGreaterThanOrEqual(p.updates[i - 1]!.seq);
        maxMessages = Math.max(maxMessages, p.updates.length);
        for (let i = 0; i < p.updateTimes.length; i++) {
          let k = i;
          while (k + 1 < p.updateTimes.length && p.updateTimes[k + 1]! - p.updateTimes[i]! < 1000) k++;
          maxInAnySecond = Math.max(maxInAnySecond, k - i + 1);
        }
      }
      // BROADCAST_INTERVAL_MS=100: at most one leading + one per 100 ms in any second (+1 for timer jitter)
      expect(maxInAnySecond).toBeLessThanOrEqual(12);
      const burstMs = Math.max(...people.map((p) => p.updateTimes.at(-1)!)) - burstStart;
      expect(maxMessages).toBeLessThanOrEqual(Math.ceil(burstMs / 100) + 2);
      console.info(
        `burst: ${N} votes acked in ${ackedAt - burstStart} ms, final counts everywhere after ${burstMs} ms, ` +
          `max ${maxMessages} messages per participant (max ${maxInAnySecond} in any second)`,
      );
    });

    it("survives 1,000+ malformed and hostile payloads on every event and keeps serving", async () => {
      const poll = await newPoll(cluster.instances[0]!.url);
      const hostile: unknown[] = [
        undefined,
        null,
        0,
        -1,
        1e308,
        Number.NaN,
        "",
        "x".repeat(4000),
        [],
        [1, 2, 3],
        {},
        { roomCode: 123 },
        { roomCode: null, nickname: {} },
        { roomCode: poll.roomCode },
        { roomCode: poll.roomCode, nickname: "" },
        { roomCode: poll.roomCode, nickname: "\u0000\u0001" },
        { roomCode: poll.roomCode, nickname: "ok", participantToken: 42 },
        { roomCode: poll.roomCode, nickname: "ok", extra: true },
        { roomCode: "'; DROP TABLE votes; --", nickname: "x" },
        { __proto__: { admin: true }, roomCode: poll.roomCode, nickname: "proto" },
        JSON.parse('{"constructor":{"prototype":{"polluted":1}},"roomCode":"AAAAAA","nickname":"c"}'),
        { optionIndex: -1 },
        { optionIndex: 1.5 },
        { optionIndex: "0" },
        { optionIndex: 1e9 },
        { optionIndex: null },
        { roomCode: poll.roomCode, hostToken: "x".repeat(600) },
        { roomCode: poll.roomCode, hostToken: null },
        Buffer.from("binary payload"),
        { nested: { deep: { deeper: Array.from({ length: 50 }, (_, i) => ({ i })) } } },
      ];
      const events = [
        "join-poll",
        "submit-vote",
        "leave-poll",
        "host-join",
        "no-such-event",
        "vote-update",
        "__proto__",
        "connect",
      ];
      let sent = 0;
      let errorAcks = 0;
      for (const [idx, z] of cluster.instances.entries()) {
        const socket = await connect(z.url);
        clients.push(socket);
        // half the sockets have joined, so submit-vote also meets the real validation path
        if (idx % 2 === 0)
          await call(socket, "join-poll", { roomCode: poll.roomCode, nickname: `fuzz${idx}` });
        const pending: Promise<unknown>[] = [];
        for (const event of events) {
          for (const payload of hostile) {
            try {
              // with an ack, without one, and with extra arguments
              pending.push(
                (socket.timeout(3000) as any).emitWithAck(event, payload).then(
                  (r: any) => {
                    if (r && r.ok === false) {
                      errorAcks++;
                      expect(Object.keys(r.error).sort()).toEqual(["code", "message"]);
                      expect(r.error.message).not.toMatch(/at .*\.js|Error:|stack/);
                    }
                  },
                  () => undefined, // unknown events are dropped: no ack arrives
                ),
              );
              (socket as any).emit(event, payload);
              (socket as any).emit(event, payload, "extra", { more: true }, () => undefined);
              sent += 3;
            } catch {
              // socket.io-client refuses reserved names ("connect") itself; nothing was sent
            }
          }
        }
        await Promise.all(pending);
      }
      expect(sent).toBeGreaterThanOrEqual(1000);
      expect(errorAcks).toBeGreaterThan(100);
      // an oversized message closes that connection, never the process
      const big = await connect(cluster.instances[1]!.url, { reconnection: false });
      const closed = new Promise((r) => big.once("disconnect", r));
      big.emit("join-poll" as any, { roomCode: poll.roomCode, nickname: "x".repeat(40_000) } as any);
      await closed;
      for (const z of cluster.instances) {
        expect(z.child.exitCode).toBeNull();
        expect((await api(z.url, "/api/health/ready")).status).toBe(200);
      }
      const fine = await joined(cluster.instances[2]!.url, poll.roomCode, "after-fuzz");
      clients.push(fine);
      expect(await call(fine, "submit-vote", { optionIndex: 0 })).toMatchObject({ ok: true });
      expect(({} as any).polluted).toBeUndefined();
      console.info(`fuzz: ${sent} hostile messages, ${errorAcks} error acks`);
    });
  });

  it("kill -9 of a participant's instance: reconnects elsewhere, same participant and vote, no acked vote lost", async () => {
    const cluster = await startCluster({ REDIS_URL: sharedRedis! });
    const lb = await startTcpBalancer(cluster.instances.map((z) => z.port));
    const everyone: LiveClient[] = [];
    try {
      const poll = await newPoll(lb.url, { allowVoteChange: true });
      const people = await Promise.all(
        Array.from({ length: 30 }, (_, i) => joined(lb.url, poll.roomCode, `k${i}`)),
      );
      everyone.push(...people);
      const counts = await whichInstance(cluster.instances, 30);
      const victimIndex = counts.indexOf(Math.max(...counts));
      const victim = cluster.instances[victimIndex]!;

      // every participant votes, then keeps changing its vote while the instance dies
      const stream = startVoteStream(people);
      const { sent, lastAcked } = stream;
      await waitFor(async () => lastAcked.size === 30, { what: "everyone voted once" });
      const before = new Map(people.map((p) => [p.participantId, lastAcked.get(p.participantId)!]));
      victim.kill("SIGKILL");
      await victim.exited;
      await new Promise((r) => setTimeout(r, 300));
      await stream.stop();

      // Everyone is connected again (the balancer skips the dead instance); re-join with the token restores identity.
      await waitFor(async () => people.every((p) => p.connected), {
        what: "clients reconnected",
        timeoutMs: 15_000,
      });
      for (const p of people) {
        const r = await call(p, "join-poll", { roomCode: poll.roomCode, participantToken: p.token });
        expect(r).toMatchObject({ ok: true, data: { participantId: p.participantId } });
        const stored = await sql<{ option_position: number }>(
          cluster.dbUrl,
          "SELECT option_position FROM votes WHERE poll_id = $1 AND participant_id = $2",
          [poll.id, p.participantId],
        );
        const list = sent.get(p.participantId)!;
        const acked = lastAcked.get(p.participantId)!;
        // durable: the stored vote is the last acknowledged one or one sent after it (committed, ack lost)
        expect(stored).toHaveLength(1);
        expect(list.slice(acked)).toContain(stored[0]!.option_position);
        expect(r.ok && r.data.yourVote).toBe(stored[0]!.option_position);
        expect(acked).toBeGreaterThanOrEqual(before.get(p.participantId)!);
      }
      const survivors = cluster.instances.filter((z) => z !== victim);
      expect(await whichInstance(survivors, 30)).toBeTruthy();
    } finally {
      for (const c of everyone) c.disconnect();
      await lb.close();
      await cluster.stop();
    }
  });

  describe("Redis restart mid-test", () => {
    let redis: RedisServer;
    let cluster: Awaited<ReturnType<typeof startCluster>>;
    beforeAll(async () => {
      redis = await startRedis();
      cluster = await startCluster({ REDIS_URL: redis.url });
    });
    afterAll(async () => {
      await cluster?.stop();
      await redis?.destroy();
    });

    it("keeps accepting durable votes while Redis is down and resumes cross-instance updates when it returns", async () => {
      const [A, B] = cluster.instances as [ZephyrProcess, ZephyrProcess];
      const poll = await newPoll(A.url, { allowVoteChange: true });
      const voters = await Promise.all(
        Array.from({ length: 10 }, (_, i) => joined(A.url, poll.roomCode, `r${i}`)),
      );
      const observer = await joined(B.url, poll.roomCode, "observer");
      try {
        expect((await call(voters[0]!, "submit-vote", { optionIndex: 0 })).ok).toBe(true);
        await waitFor(async () => observer.updates.at(-1)?.total === 1, {
          what: "cross-instance before the restart",
        });

        await redis.stop();
        const acked: string[] = [];
        for (const [i, v] of voters.slice(1).entries()) {
          const r = await call(v, "submit-vote", { optionIndex: (i % 3) + 1 }, 10_000);
          expect(r).toMatchObject({ ok: true });
          acked.push(v.participantId);
        }
        const stored = await sql<{ participant_id: string }>(
          cluster.dbUrl,
          "SELECT participant_id FROM votes WHERE poll_id = $1",
          [poll.id],
        );
        expect(new Set(stored.map((r) => r.participant_id))).toEqual(
          new Set([voters[0]!.participantId, ...acked]),
        );
        for (const z of cluster.instances) {
          expect(z.child.exitCode).toBeNull();
          expect((await api(z.url, "/api/health/live")).status).toBe(200);
          // Redis is a dependency: readiness tells the truth while it is down
          expect((await api(z.url, "/api/health/ready")).status).toBe(503);
        }

        await redis.start();
        await waitFor(
          async () =>
            (await Promise.all(cluster.instances.map((z) => api(z.url, "/api/health/ready")))).every(
              (r) => r.status === 200,
            ),
          { what: "ready again after Redis returned", timeoutMs: 20_000 },
        );
        // A vote after the restart reaches the other instance through the adapter again.
        const late = await joined(A.url, poll.roomCode, "late");
        expect((await call(late, "submit-vote", { optionIndex: 2 })).ok).toBe(true);
        await waitFor(async () => observer.updates.at(-1)?.total === 11, {
          what: "cross-instance after the restart",
          timeoutMs: 15_000,
        });
        const final = (await api(B.url, `/api/polls/${poll.roomCode}/results`)).body.counts;
        expect(observer.updates.at(-1)?.counts).toEqual(final);
        // The restarted Redis is empty (no persistence here): identity and votes come back from PostgreSQL.
        const rejoin = await call(await connect(B.url), "join-poll", {
          roomCode: poll.roomCode,
          participantToken: voters[3]!.token,
        });
        expect(rejoin).toMatchObject({
          ok: true,
          data: { participantId: voters[3]!.participantId, yourVote: (2 % 3) + 1 },
        });
        for (const z of cluster.instances) {
          expect(z.child.exitCode).toBeNull();
          expect(z.output()).not.toMatch(/unhandled promise rejection/);
        }
        late.disconnect();
      } catch (err) {
        console.error(A.output().slice(-4000));
        throw err;
      } finally {
        for (const c of [...voters, observer]) c.disconnect();
      }
    });
  });

  it("SIGTERM one instance during a vote stream: its clients reconnect elsewhere, zero acknowledged votes lost", async () => {
    const cluster = await startCluster({ REDIS_URL: sharedRedis!, SHUTDOWN_TIMEOUT_MS: "10000" });
    const lb = await startTcpBalancer(cluster.instances.map((z) => z.port));
    const people: Array<Awaited<ReturnType<typeof joined>>> = [];
    try {
      const poll = await newPoll(lb.url, { allowVoteChange: true });
      people.push(
        ...(await Promise.all(Array.from({ length: 45 }, (_, i) => joined(lb.url, poll.roomCode, `s${i}`)))),
      );
      const counts = await whichInstance(cluster.instances, 45);
      const victimIndex = counts.indexOf(Math.max(...counts));
      const victim = cluster.instances[victimIndex]!;
      // as a real client would: after an automatic reconnect, re-join with the token before voting again
      let rejoins = 0;
      for (const p of people) {
        p.io.on("reconnect", () => {
          call(p, "join-poll", { roomCode: poll.roomCode, participantToken: p.token }).then((r) => {
            if (r.ok) rejoins++;
          });
        });
      }
      const stream = startVoteStream(people);
      const { sent, lastAcked } = stream;
      await waitFor(async () => lastAcked.size === 45, { what: "everyone voted once" });
      const signalledAt = Date.now();
      victim.kill("SIGTERM");
      const code = await victim.exited;
      const exitMs = Date.now() - signalledAt;
      await waitFor(async () => rejoins >= counts[victimIndex]!, {
        what: "drained clients re-joined elsewhere",
        timeoutMs: 15_000,
      });
      await new Promise((r) => setTimeout(r, 500));
      await stream.stop();
      expect(code).toBe(0);
      expect(exitMs).toBeLessThan(10_000);
      expect(victim.output()).toMatch(/"step":"sockets"/);

      const stored = await sql<{ participant_id: string; option_position: number }>(
        cluster.dbUrl,
        "SELECT participant_id, option_position FROM votes WHERE poll_id = $1",
        [poll.id],
      );
      const byId = new Map(stored.map((r) => [r.participant_id, r.option_position]));
      for (const p of people) {
        const list = sent.get(p.participantId)!;
        expect(list.slice(lastAcked.get(p.participantId)!)).toContain(byId.get(p.participantId));
      }
      const survivors = cluster.instances.filter((z) => z !== victim);
      expect(await whichInstance(survivors, 45)).toBeTruthy();
      console.info(
        `SIGTERM drain: ${counts[victimIndex]} clients moved, exit ${code} after ${exitMs} ms, ${rejoins} re-joins`,
      );
    } finally {
      for (const c of people) c.disconnect();
      await lb.close();
      await cluster.stop();
    }
  });
});
