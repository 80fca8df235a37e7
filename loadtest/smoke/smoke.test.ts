import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, freePort, requireServices } from "../../test/services.js";
import { spawnZephyr, type ZephyrProcess } from "../../test/zephyr.js";
import { LOADTEST_DIR, runSmoke, type SmokeResult } from "./runner.js";

/**
 * Smoke check of the k6 scripts' logic (one VU, a few seconds each) against three real instances sharing
 * Redis and a fresh database. Not a load test: it proves the scripts connect, speak the protocol, pass every
 * check, feed every metric their thresholds name, and write their JSON summary.
 */

const ready = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const redisUrl = inject("redisUrl");
const SCENARIOS = readdirSync(join(LOADTEST_DIR, "scenarios"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();

function expectClean(r: SmokeResult) {
  expect(r.errors).toEqual([]);
  expect(r.iterations).toBeGreaterThan(0);
  expect(r.checks.length).toBeGreaterThan(0);
  expect(r.checks.filter((c) => c.fails > 0)).toEqual([]);
  // Every threshold names a metric the script actually fed (a typo would silently never fail in k6).
  for (const t of r.thresholds) {
    expect(t.metricType, `${t.metric} ${t.expression}`).toBeDefined();
    expect(r.metrics[t.metric]?.count, `${t.metric} has samples`).toBeGreaterThan(0);
  }
  // Correctness thresholds must hold even at one VU; latency ones are reported, not asserted, on shared CI.
  expect(r.thresholds.filter((t) => t.metricType !== "trend" && !t.ok)).toEqual([]);
  const summary = Object.keys(r.summaryFiles);
  expect(summary).toHaveLength(1);
  expect(JSON.parse(Object.values(r.summaryFiles)[0] as string).metrics).toBeTypeOf("object");
  expect(r.stdout).toMatch(/zephyr /);
}

describe.runIf(ready && pgUrl && redisUrl)(
  "k6 scripts: smoke check of script logic (1 VU, 3 instances)",
  () => {
    const instances: ZephyrProcess[] = [];
    let env: Record<string, string>;
    beforeAll(async () => {
      const common = {
        DATABASE_URL: await createDatabase(pgUrl!, "lt_smoke"),
        REDIS_URL: redisUrl!,
        RATE_LIMIT_JOIN: "1000000",
        RATE_LIMIT_JOIN_POLLS: "1000000",
        RATE_LIMIT_VOTE: "1000000",
        RATE_LIMIT_POLL_CREATE: "1000000",
        RATE_LIMIT_ROOM_MISS: "1000000",
        SOCKET_PING_INTERVAL_MS: "1000",
        SOCKET_PING_TIMEOUT_MS: "1000",
      };
      instances.push(await spawnZephyr({ ...common, INSTANCE_ID: "smoke-1" }));
      instances.push(
        ...(await Promise.all([2, 3].map((i) => spawnZephyr({ ...common, INSTANCE_ID: `smoke-${i}` })))),
      );
      env = {
        BASE_URL: instances[0]!.url,
        WS_URL: instances[0]!.url,
        INSTANCE_URLS: instances.map((z) => z.url).join(","),
      };
    });
    afterAll(async () => {
      for (const z of instances) z.kill("SIGKILL");
      await Promise.all(instances.map((z) => z.exited));
    });

    it("covers every script in loadtest/scenarios", () => {
      expect(SCENARIOS).toEqual([
        "connection-ramp",
        "cross-instance",
        "http-api",
        "presentation",
        "soak",
        "voting-burst",
        "wordcloud-burst",
      ]);
    });

    it.each(SCENARIOS)("%s passes every check", async (name) => {
      const r = await runSmoke(name, { env, maxSeconds: 3 });
      expectClean(r);
    });

    it("voting burst records vote→update latency and exact final counts from socket and database", async () => {
      const r = await runSmoke("voting-burst", { env });
      expectClean(r);
      expect(r.metrics.zephyr_vote_update_latency?.count).toBe(1);
      expect(r.metrics.zephyr_final_counts_exact).toMatchObject({ count: 2, values: { rate: 1 } });
      expect(r.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining(["pushed final counts are exact", "stored counts are exact"]),
      );
    });

    it("word-cloud burst checks normalised entries and the exact cloud, pushed and stored", async () => {
      const r = await runSmoke("wordcloud-burst", { env });
      expectClean(r);
      expect(r.metrics.zephyr_wordcloud_entries_acked?.values.count).toBe(2);
      expect(r.metrics.zephyr_final_words_exact).toMatchObject({ count: 2, values: { rate: 1 } });
    });

    it("presentation steps through all five questions, each answered and counted", async () => {
      const r = await runSmoke("presentation", { env });
      expectClean(r);
      expect(r.metrics.zephyr_answers_acked?.values.count).toBe(5);
      expect(r.metrics.zephyr_question_totals_exact).toMatchObject({ count: 5, values: { rate: 1 } });
    });

    it("cross-instance observes every vote on the two other instances and its own", async () => {
      const r = await runSmoke("cross-instance", { env });
      expectClean(r);
      // smoke profile: 3 votes, one voter instance, observers on all three instances.
      expect(r.metrics.zephyr_cross_instance_latency?.count).toBe(3 * 2);
      expect(r.metrics.zephyr_same_instance_latency?.count).toBe(3);
      expect(r.metrics.zephyr_cross_instance_missed?.values.rate).toBe(0);
    });

    it("fails the checks and thresholds when the target is down (the smoke check can fail)", async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      const r = await runSmoke("http-api", {
        env: { BASE_URL: dead, WS_URL: dead, INSTANCE_URLS: dead },
        maxSeconds: 1,
      });
      expect(r.checks.find((c) => c.name === "poll created (201)")?.fails).toBeGreaterThan(0);
      expect(r.thresholds.find((t) => t.metric === "http_req_failed")?.ok).toBe(false);
      expect(r.thresholds.find((t) => t.metric === "checks")?.ok).toBe(false);
    });
  },
);
