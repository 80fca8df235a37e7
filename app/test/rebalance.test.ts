import { afterAll, describe, expect, inject, it } from "vitest";
import { CLUSTER_ENV as ENV, startCluster } from "../../test/cluster.js";
import { requireServices, sql } from "../../test/services.js";
import { call, connect, type LiveClient, startTcpBalancer } from "../../test/sockets.js";
import { api, spawnZephyr, waitFor, type ZephyrProcess } from "../../test/zephyr.js";

/**
 * Self-healing connection balance with real instances, Redis and socket.io clients behind a round-robin TCP
 * balancer (a Service without affinity): a new instance fills up to the mean by itself, shed clients come back
 * as the same participants with their votes, and nothing moves while rebalancing is off or an instance drains.
 */

const ready = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const redisUrl = inject("redisUrl");

type Person = LiveClient & {
  token: string;
  participantId: string;
  reconnects: number;
  rejoins: number;
  /** Re-joins that came back as someone else (must stay 0). */
  strangers: number;
  /** Re-joins cut short by another disconnect: the next reconnect re-joins again. */
  interrupted: number;
  /** Reconnects before the first join completed (that join is retried instead of a re-join). */
  beforeJoin: number;
};

type Tallied = "reconnects" | "rejoins" | "strangers" | "interrupted" | "beforeJoin";
/** One of the people's counters, summed over the crowd. */
const tally = (people: Person[], field: Tallied) => people.reduce((n, p) => n + p[field], 0);

const counts = async (zs: ZephyrProcess[]) =>
  Promise.all(zs.map(async (z) => (await api(z.url, "/api/health")).body.connections as number));

async function shedTotal(z: ZephyrProcess): Promise<number> {
  const text = await (await fetch(`${z.url}/metrics`)).text();
  return Number(/^zephyr_rebalance_shed_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** Decisions an instance logged: its connections, the mean it saw and how many it set out to shed. */
function decisions(z: ZephyrProcess) {
  return z
    .output()
    .split("\n")
    .filter((l) => l.includes("rebalance: shedding"))
    .map((l) => JSON.parse(l) as { connections: number; mean: number; shedding: number; time: string });
}

/** Joins `n` participants through `url`, each re-joining with its token after an automatic reconnect. */
async function crowd(url: string, roomCode: string, n: number): Promise<Person[]> {
  const people: Person[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, async (_, j) => {
        const c = (await connect(url)) as Person;
        // Every reconnect is counted from the start: each shed must match one, the first join's included.
        Object.assign(c, { reconnects: 0, rejoins: 0, strangers: 0, interrupted: 0, beforeJoin: 0 });
        c.io.on("reconnect", () => {
          c.reconnects++;
          if (!c.token) {
            c.beforeJoin++;
            return;
          }
          call(c, "join-poll", { roomCode, participantToken: c.token }, 20_000).then(
            (again) => {
              if (again.ok && again.data.participantId === c.participantId) c.rejoins++;
              else c.strangers++;
            },
            () => c.interrupted++,
          );
        });
        c.io.on("reconnect_error", (e) => {
          (c as any).lastError = String(e?.message ?? e);
        });
        // A shed during the first join interrupts it: join again once reconnected, as the page does.
        let r:
          | Awaited<ReturnType<typeof call<{ participantToken: string; participantId: string }>>>
          | undefined;
        for (let attempt = 0; !r && attempt < 5; attempt++) {
          if (!c.connected) await waitFor(async () => c.connected, { what: "reconnected" });
          r = await call(c, "join-poll", { roomCode, nickname: `p${i + j}` }).catch(() => undefined);
        }
        if (!r?.ok) throw new Error(`join failed: ${JSON.stringify(r)}`);
        Object.assign(c, { token: r.data.participantToken, participantId: r.data.participantId });
        return c;
      }),
    );
    people.push(...batch);
  }
  return people;
}

describe.runIf(ready && pgUrl && redisUrl)("rebalancing across instances", () => {
  const everyone: LiveClient[] = [];
  afterAll(() => {
    for (const c of everyone) c.disconnect();
  });

  it("a third instance behind a round-robin balancer fills up to the mean; no vote lost, everyone still themselves", async () => {
    // One update per second per room: 3,000 clients in this one test process must not starve its event loop (their
    // reconnects would then crawl), and the rebalancing does not depend on the broadcast rate.
    const env = { ...ENV, REDIS_URL: redisUrl!, REBALANCE_ENABLED: "true", BROADCAST_INTERVAL_MS: "1000" };
    const cluster = await startCluster(pgUrl!, env, 2);
    const lb = await startTcpBalancer(cluster.instances.map((z) => z.port));
    let third: ZephyrProcess | undefined;
    try {
      const poll = (
        await api(lb.url, "/api/polls", {
          body: { question: "Balance?", options: ["a", "b", "c", "d"], allowVoteChange: true },
        })
      ).body;
      const N = 3000;
      const people = await crowd(lb.url, poll.roomCode, N);
      everyone.push(...people);
      const before = await counts(cluster.instances);
      console.info(`two instances: ${before}; decisions ${JSON.stringify(cluster.instances.map(decisions))}`);
      expect(before).toEqual([N / 2, N / 2]);

      // Everyone votes once; then one in twenty keeps changing its vote while connections move.
      const lastAcked = new Map<string, number>();
      const sent = new Map<string, number[]>();
      const vote = async (p: Person, option: number) => {
        const list = sent.get(p.participantId) ?? [];
        list.push(option);
        sent.set(p.participantId, list);
        const r = await call(p, "submit-vote", { optionIndex: option }, 10_000).catch(() => undefined);
        if (r?.ok) lastAcked.set(p.participantId, list.length - 1);
        return r?.ok === true;
      };
      for (let i = 0; i < N; i += 500)
        await Promise.all(people.slice(i, i + 500).map((p, j) => vote(p, (i + j) % 4)));
      expect(lastAcked.size).toBe(N);
      let voting = true;
      const streams = people
        .filter((_, i) => i % 20 === 0)
        .map(async (p, i) => {
          for (let round = 1; voting; round++) {
            await vote(p, (i + round) % 4);
            await new Promise((r) => setTimeout(r, 300));
          }
        });

      third = await spawnZephyr({ ...env, DATABASE_URL: cluster.dbUrl, INSTANCE_ID: "pod-3" });
      const all = [...cluster.instances, third];
      lb.setBackends(all.map((z) => z.port));
      const startedAt = Date.now();
      const samples: number[][] = [];
      let balancedAfter = 0;
      try {
        await waitFor(
          async () => {
            const c = await counts(all);
            samples.push(c);
            const mean = c.reduce((a, b) => a + b, 0) / c.length;
            if (Math.max(...c) - Math.min(...c) > 0.1 * mean) return false;
            balancedAfter = Date.now() - startedAt;
            return true;
          },
          { what: "the three instances within 10 % of the mean", timeoutMs: 180_000, intervalMs: 2000 },
        );
      } catch (err) {
        console.error(
          `not balanced: ${people.filter((p) => !p.connected).length} disconnected, errors ${JSON.stringify([...new Set(people.map((p) => (p as any).lastError).filter(Boolean))].slice(0, 5))}, active ${people.filter((p) => (p.io as any)._reconnecting).length} reconnecting; samples ${samples.map((c) => c.join("/")).join(" ")}; shed ${JSON.stringify(await Promise.all(all.map(shedTotal)))}; last decisions ${JSON.stringify(all.map((z) => decisions(z).slice(-3)))}`,
        );
        throw err;
      } finally {
        voting = false;
        await Promise.all(streams);
      }
      // Every shed client is back, as itself. The instances may still be shedding towards their own, tighter
      // tolerance, so the sample counts only when no shed happened while it was taken (same totals before and after):
      // then every shed it counts has either been seen by its client as a reconnect, or shows as a missing
      // connection or a disconnected client, and the sample is retried.
      const { shed, reconnects } = await waitFor(
        async () => {
          const shedBefore = await Promise.all(all.map(shedTotal));
          const connected = (await counts(all)).reduce((a, b) => a + b, 0);
          const settled = people.every(
            (p) => p.connected && p.beforeJoin + p.rejoins + p.strangers + p.interrupted === p.reconnects,
          );
          const reconnects = tally(people, "reconnects");
          const shedAfter = await Promise.all(all.map(shedTotal));
          const quiet = shedAfter.every((n, i) => n === shedBefore[i]);
          return quiet && settled && connected === N && { shed: shedAfter, reconnects };
        },
        { what: "every shed client re-joined", timeoutMs: 60_000, intervalMs: 500 },
      );
      const interrupted = tally(people, "interrupted");
      const beforeJoin = tally(people, "beforeJoin");
      const final = await counts(all);
      const laterDecisions = all
        .flatMap(decisions)
        .filter((d) => Date.parse(d.time) > startedAt + balancedAfter).length;
      console.info(
        `rebalance: balanced ${JSON.stringify(final)} after ${balancedAfter} ms (${laterDecisions} shed decisions after that); shed ${JSON.stringify(shed)}, ` +
          `${reconnects} reconnects (${interrupted} re-joins cut short by another shed, ${beforeJoin} before the first join), ${people.filter((p) => p.reconnects > 0).length} clients moved at least once; ` +
          `samples ${samples.map((s) => s.join("/")).join(" ")}`,
      );
      expect(balancedAfter).toBeGreaterThan(0);
      expect(tally(people, "strangers")).toBe(0);
      expect(tally(people, "rejoins")).toBe(reconnects - interrupted - beforeJoin);
      // Only the two crowded instances shed; every shed connection was one client's reconnect.
      expect(shed[2]).toBe(0);
      expect((shed[0] as number) + (shed[1] as number)).toBe(reconnects);
      // No instance set out to shed below the mean it saw.
      for (const z of all)
        for (const d of decisions(z))
          expect(d.connections - d.shedding, JSON.stringify(d)).toBeGreaterThanOrEqual(d.mean);
      // Durable: each participant's stored vote is its last acknowledged one, or one sent after it.
      const stored = await sql<{ participant_id: string; option_position: number }>(
        cluster.dbUrl,
        "SELECT participant_id, option_position FROM votes WHERE poll_id = $1",
        [poll.id],
      );
      const byId = new Map(stored.map((r) => [r.participant_id, r.option_position]));
      expect(byId.size).toBe(N);
      for (const [id, index] of lastAcked)
        expect((sent.get(id) as number[]).slice(index)).toContain(byId.get(id));
      for (const z of all) expect(z.output()).not.toMatch(/unhandled promise rejection/);
    } finally {
      for (const c of everyone.splice(0)) c.disconnect();
      await lb.close();
      third?.kill("SIGKILL");
      await third?.exited;
      await cluster.stop();
    }
  }, 420_000);

  it.each([
    ["off", { REBALANCE_ENABLED: "false" }],
    ["on, while the crowded instance drains", { REBALANCE_ENABLED: "true", SHUTDOWN_DELAY_MS: "3000" }],
  ])(
    "nothing is shed with rebalancing %s",
    async (mode, extra) => {
      const env = { ...ENV, REDIS_URL: redisUrl!, REBALANCE_INTERVAL_MS: "500", ...extra };
      const cluster = await startCluster(pgUrl!, env, 2);
      const [busy, quiet] = cluster.instances as [ZephyrProcess, ZephyrProcess];
      try {
        const poll = (
          await api(busy.url, "/api/polls", { body: { question: "Still?", options: ["a", "b"] } })
        ).body;
        const people = await crowd(busy.url, poll.roomCode, 200);
        everyone.push(...people);
        expect(await counts(cluster.instances)).toEqual([200, 0]);
        let exited: Promise<unknown> | undefined;
        if (mode !== "off") {
          // Rebalancing: the crowded instance sheds (its clients come straight back, they connect to it directly)…
          await waitFor(async () => decisions(busy).length > 0, {
            what: "a shedding decision before the drain",
          });
          // …until it drains: from then on its clients leave because it drains, never because it rebalances.
          busy.kill("SIGTERM");
          exited = busy.exited;
        }
        // Five intervals and more: time enough to shed, were it allowed to.
        await new Promise((r) => setTimeout(r, 2500));
        if (mode === "off") {
          expect(await counts(cluster.instances)).toEqual([200, 0]);
          expect(people.every((p) => p.reconnects === 0 && p.connected)).toBe(true);
          expect(await shedTotal(busy)).toBe(0);
          expect(await shedTotal(quiet)).toBe(0);
        } else {
          expect(await exited).toBe(0);
          const line = busy
            .output()
            .split("\n")
            .find((l) => l.includes("shutting down: readiness now 503")) as string;
          const drainingSince = Date.parse(JSON.parse(line).time);
          expect(
            decisions(busy).filter((d) => Date.parse(d.time) >= drainingSince),
            "a draining instance decided to shed",
          ).toEqual([]);
        }
        expect(decisions(quiet)).toEqual([]);
      } finally {
        for (const c of everyone.splice(0)) c.disconnect();
        await cluster.stop();
      }
    },
    120_000,
  );
});
