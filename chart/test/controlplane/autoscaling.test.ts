/**
 * The chart's HorizontalPodAutoscaler driven by the real HPA controller of kube-controller-manager, from metrics
 * served the way a cluster serves them, through the aggregation layer:
 *
 * - metrics.k8s.io: the real metrics-server, scraping kwok's emulated kubelet resource metrics. Each kwok pod's CPU
 *   is the CPU its real Zephyr instance used (measured by Prometheus), written into the pod's kwok usage
 *   annotation; pods without an instance idle at kwok's default.
 * - custom.metrics.k8s.io: custom-metrics-apiserver's upstream test adapter, which serves what is written to it.
 *   That part is a stand-in for prometheus-adapter (not served by the Go module proxy here): the values written
 *   are computed the way prometheus-adapter computes them, by running the metricsQuery of
 *   alerts/prometheus-adapter-values.yaml, expanded for the pods, against a real Prometheus scraping real
 *   instances.
 *
 * Real Zephyr instances stand in for the release's pods: each pod the Deployment creates is given a free instance
 * (the pool holds maxReplicas + 1, so a drain's replacement pod gets one too), and Prometheus scrapes it with that
 * pod's labels, as a ServiceMonitor would; clients reach "the Service" as the instances of the current pods.
 *
 * Test values shorten the chart's scale-down stabilization window (600 s → 20 s), the policies' periods and the
 * replica range (2–4), so a scaling run takes seconds, not minutes; the metrics, targets and target types are the
 * chart's own. For the connection and request-rate scenarios the CPU request is raised to 4 cores, out of reach
 * of an instance on this 2-core machine: connecting 19,000 clients or serving 2,400 requests/s costs far more
 * than 70 % of the chart's 250m, and the HPA names only the metric with the highest proposal as its reason.
 */

import { execFile, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { connectAcross, sourceAddresses, takeWorker, type Worker } from "../../../loadtest/bench/workers.js";
import { adapterRules, expandMetricsQuery } from "../../../test/adapter-rules.js";
import { CHART as REPO_CHART, REPO_ROOT } from "../../../test/paths.js";
import { type Prometheus, prometheusBin, startPrometheus } from "../../../test/prometheus.js";
import { api, spawnZephyr, type ZephyrProcess } from "../../../test/zephyr.js";
import { type ControlPlane, startControlPlane } from "./cluster.js";
import type { KObject } from "./kube-api.js";
import { metricsToolsPresent, tools, toolsPresent } from "./requirements.js";
import { waitFor } from "./wait.js";

/** CONTROLPLANE_CHART=/path/to/a/chart runs the scenarios against another copy (to show a defect is caught). */
const CHART = resolve(process.env.CONTROLPLANE_CHART ?? REPO_CHART);
const NS = "autoscale";
const RELEASE = "zephyr";
const SELECTOR = { "app.kubernetes.io/instance": RELEASE, "app.kubernetes.io/component": "server" };
/** Test values: the chart's metrics and targets, shorter windows and periods, 2–4 replicas. */
const TEST_VALUES = {
  autoscaling: {
    minReplicas: 2,
    maxReplicas: 4,
    behavior: {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [{ type: "Pods", value: 1, periodSeconds: 10 }],
      },
      scaleDown: {
        stabilizationWindowSeconds: 20,
        selectPolicy: "Min",
        policies: [{ type: "Pods", value: 1, periodSeconds: 10 }],
      },
    },
  },
};
const { minReplicas, maxReplicas } = TEST_VALUES.autoscaling;
const WINDOW_SECONDS = TEST_VALUES.autoscaling.behavior.scaleDown.stabilizationWindowSeconds;
const PERIOD_SECONDS = 10;
/** The chart's Pods-metric targets (values.yaml), per pod. */
const CONNECTIONS_TARGET = 5000;
const REQUEST_RATE_TARGET = 500;

const ready = toolsPresent && metricsToolsPresent && !!prometheusBin;

/** One observation of the HPA: replicas and what it saw, for the scaling timeline. */
interface Sample {
  t: number;
  replicas: number;
  desired: number;
  /** Pods of the release that are Ready. */
  readyPods: number;
  metrics: Record<string, number>;
}

interface Rescale {
  t: number;
  replicas: number;
  reason: string;
}

describe.skipIf(!ready)("HPA controller scaling the chart's Deployment from real metrics APIs", () => {
  let cp: ControlPlane;
  let prom: Prometheus;
  /** The pool of real instances; a pod's stand-in is taken from it and returned when the pod goes. */
  const instances: ZephyrProcess[] = [];
  /** kwok pod name → the real instance standing in for it. */
  const standIns = new Map<string, ZephyrProcess>();
  const timeline: Sample[] = [];
  /** The controller's rescale events, collected per scenario (the API folds repeated messages into one Event). */
  const rescaleLog: Rescale[] = [];
  /** Scenario boundaries on the timeline, for the docs. */
  const marks: { t: number; label: string }[] = [];
  let feeding = true;
  let feeder: Promise<void> | undefined;
  const t0 = Date.now();
  const now = () => Math.round((Date.now() - t0) / 100) / 10;
  const mark = (label: string) => marks.push({ t: now(), label });

  const helm = (args: string[]) =>
    promisify(execFile)(tools.helm as string, args, { env: cp.env, cwd: REPO_ROOT, timeout: 240_000 });
  const pods = async () =>
    (await cp.api.list("v1", "Pod", NS, SELECTOR)).filter((p) => !p.metadata.deletionTimestamp);
  const isReady = (p: KObject) =>
    (p.status?.conditions ?? []).some(
      (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
    );
  const hpa = () => cp.api.get("autoscaling/v2", "HorizontalPodAutoscaler", NS, RELEASE);
  const replicas = async () => (await hpa()).status?.currentReplicas as number | undefined;
  /** The instances a Service would send new clients to: those of the current pods. */
  const serviceUrls = () => [...standIns.values()].map((z) => z.url);

  /** Gives each new pod a free instance and frees those of pods that are gone; Prometheus follows. */
  async function assignStandIns() {
    const live = new Set((await pods()).map((p) => p.metadata.name as string));
    let changed = false;
    for (const pod of [...standIns.keys()])
      if (!live.has(pod)) {
        standIns.delete(pod);
        changed = true;
      }
    for (const pod of live) {
      if (standIns.has(pod)) continue;
      const taken = new Set(standIns.values());
      const free = instances.find((z) => !taken.has(z));
      if (!free) break;
      standIns.set(pod, free);
      changed = true;
    }
    if (changed)
      prom.setTargets(
        [...standIns].map(([pod, z]) => ({ address: `127.0.0.1:${z.port}`, namespace: NS, pod })),
      );
  }

  /** What prometheus-adapter would serve now, by metric and pod: each rule's own metricsQuery. */
  async function adapterValues(podNames: string[]) {
    const out: Record<string, Record<string, number>> = {};
    for (const rule of adapterRules()) {
      const result = await prom.query(expandMetricsQuery(rule, NS, podNames));
      out[rule.name.as] = Object.fromEntries(result.map((r) => [r.metric.pod, Number(r.value[1])]));
    }
    return out;
  }

  /** Once a second: custom metric values into the adapter, each instance's CPU into its pod's kwok annotation. */
  async function feed() {
    while (feeding) {
      const round = [
        async () => {
          await assignStandIns();
          const values = await adapterValues([...standIns.keys()]);
          for (const [metric, byPod] of Object.entries(values))
            for (const [pod, value] of Object.entries(byPod))
              await fetch(`${cp.customMetricsWriteUrl}/namespaces/${NS}/pods/${pod}/${metric}`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify(`${Math.round(value * 1000)}m`),
              }).catch(() => undefined); // the adapter is down in the outage scenario
        },
        async () => {
          const cpu = await prom.query(
            `sum by (pod) (rate(process_cpu_seconds_total{job="zephyr",namespace="${NS}"}[5s]))`,
          );
          for (const r of cpu.filter((r) => standIns.has(r.metric.pod as string)))
            await cp.api
              .patch({
                apiVersion: "v1",
                kind: "Pod",
                metadata: {
                  name: r.metric.pod as string,
                  namespace: NS,
                  annotations: {
                    "kwok.x-k8s.io/usage-cpu": `${Math.max(1, Math.round(Number(r.value[1]) * 1000))}m`,
                  },
                },
              })
              .catch(() => undefined); // a pod deleted since the query
        },
        async () => {
          const [h, p] = await Promise.all([hpa(), pods()]);
          timeline.push({
            t: now(),
            replicas: h.status?.currentReplicas ?? 0,
            desired: h.status?.desiredReplicas ?? 0,
            readyPods: p.filter(isReady).length,
            metrics: Object.fromEntries(
              (h.status?.currentMetrics ?? [])
                .filter((m: any) => (m.type === "Resource" ? m.resource?.current : m.pods?.current))
                .map((m: any) => [
                  m.type === "Resource" ? "cpuUtilization" : m.pods.metric.name,
                  m.type === "Resource"
                    ? m.resource.current.averageUtilization
                    : Number.parseFloat(m.pods.current.averageValue) /
                      (m.pods.current.averageValue.endsWith("m") ? 1000 : 1),
                ]),
            ),
          });
        },
      ];
      for (const step of round)
        await step().catch(() => {
          // The next round retries; a failing feed shows as a scaling test timing out, with the timeline.
        });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  beforeAll(async () => {
    cp = await startControlPlane({ metricsApis: true });
    // Embedded storage, one per instance: only each one's own metrics matter here. The load comes from few
    // addresses, which the per-address limits would rightly throttle.
    const env = {
      RATE_LIMIT_VOTE: "1000000",
      RATE_LIMIT_JOIN: "1000000",
      RATE_LIMIT_POLL_CREATE: "1000000",
      SOCKET_TRANSPORTS: "websocket",
    };
    // One at a time: five embedded databases initialising at once beside a starting control plane take minutes.
    for (let i = 0; i <= maxReplicas; i++) instances.push(await spawnZephyr(env, { timeoutMs: 90_000 }));
    prom = await startPrometheus(cp.dir, []);
    await helmRelease("install", {});
    await waitFor("2 pods of the release, each with its stand-in", async () => {
      await assignStandIns();
      return (await pods()).length === 2 && standIns.size === 2;
    });
    feeder = feed();
  }, 300_000);

  afterAll(async () => {
    feeding = false;
    await feeder;
    // The run's record, which docs/autoscaling.md draws its timeline from (copied to docs/autoscaling-run.json).
    mkdirSync(join(REPO_ROOT, ".tmp"), { recursive: true });
    writeFileSync(
      join(REPO_ROOT, ".tmp", "autoscaling-run.json"),
      `${JSON.stringify({ recorded: new Date(t0).toISOString(), values: TEST_VALUES, marks, rescales: rescaleLog.sort((a, b) => a.t - b.t), timeline })}\n`,
    );
    for (const z of instances) z.kill("SIGKILL");
    await prom?.stop();
    await cp?.stop();
  }, 60_000);

  /** helm install/upgrade of the release with the test values plus `extra`, waiting for its rollout. */
  async function helmRelease(verb: "install" | "upgrade", extra: object) {
    const values = join(cp.dir, `autoscaling-values-${verb}.yaml`);
    writeFileSync(values, stringify({ ...TEST_VALUES, ...extra }));
    await helm([
      verb,
      RELEASE,
      CHART,
      "-n",
      NS,
      ...(verb === "install" ? ["--create-namespace"] : []),
      "--wait",
      "--timeout",
      "3m",
      // The minimal install (its secrets name a database and Redis nobody connects to: kwok runs no container).
      "-f",
      join(CHART, "ci", "minimal-values.yaml"),
      "-f",
      values,
    ]);
  }

  /** The HPA's rescale events since `since`, in order, with their time on the timeline and reason. */
  async function rescalesSince(since: string): Promise<Rescale[]> {
    const list = await cp.api.list("v1", "Event", NS);
    const found = list
      .filter((e) => e.reason === "SuccessfulRescale" && (e.lastTimestamp ?? e.eventTime ?? "") >= since)
      .sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp)))
      .map((e) => ({
        t: (Date.parse(e.lastTimestamp) - t0) / 1000,
        replicas: Number(/New size: (\d+)/.exec(e.message)?.[1]),
        reason: String(e.message),
      }));
    for (const r of found)
      if (!rescaleLog.some((l) => l.t === r.t && l.replicas === r.replicas)) rescaleLog.push(r);
    return found;
  }

  const waitReplicas = (n: number, what: string, timeoutMs: number) =>
    waitFor(
      `${what}: ${n} replicas`,
      async () => (await replicas()) === n && (await pods()).length === n,
      timeoutMs,
      500,
    );

  it("stores the chart's HPA with the metric names prometheus-adapter serves and their target types", async () => {
    // The controller reads a Pods target's averageValue whatever its type says (a `Value` type scales the same),
    // so only the stored object shows such a slip; a name the adapter does not serve shows in the scenarios too.
    const pods = (name: string, averageValue: string) => ({
      type: "Pods",
      pods: { metric: { name }, target: { type: "AverageValue", averageValue } },
    });
    expect(adapterRules().map((r) => r.name.as)).toEqual([
      "websocket_connections_current",
      "http_requests_per_second",
    ]);
    // As the API server stores quantities: 5000 is "5k".
    expect((await hpa()).spec.metrics).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
      pods("websocket_connections_current", "5k"),
      pods("http_requests_per_second", String(REQUEST_RATE_TARGET)),
    ]);
  });

  it("serves both metrics APIs through the aggregation layer, per pod", async () => {
    const names = [...standIns.keys()].sort();
    const custom = await waitFor("custom metrics for both pods", async () => {
      const l = await cp.getRaw<{ items: { describedObject: { name: string } }[] }>(
        `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${NS}/pods/*/websocket_connections_current`,
      );
      return l.items.length === 2 && l;
    });
    expect(custom.items.map((i) => i.describedObject.name).sort()).toEqual(names);
    const podMetrics = await waitFor(
      "metrics-server's pod metrics",
      async () => {
        const l = await cp.getRaw<{ items: { metadata: { name: string } }[] }>(
          `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods`,
        );
        return l.items.length >= 2 && l;
      },
      90_000,
      1000,
    );
    expect(podMetrics.items.map((i) => i.metadata.name).sort()).toEqual(expect.arrayContaining(names));
  });

  it("CPU above 70 % of the request scales up one pod per period to maxReplicas, then back to minReplicas", async () => {
    mark("CPU load");
    const since = new Date().toISOString();
    // Real CPU: participants on both stand-ins vote in a closed loop over Socket.IO (no HTTP requests, few
    // connections, so CPU is the metric above its target).
    const worker = takeWorker();
    // Load until the maximum has held for three periods (the HPA proposing more all along), then no load.
    const loadSeconds = 240;
    const holdAtMaxMs = 3 * PERIOD_SECONDS * 1000;
    for (const url of serviceUrls()) {
      const poll = (
        await api(url, "/api/polls", {
          body: { question: "load", options: ["a", "b"], allowVoteChange: true },
        })
      ).body as { roomCode: string };
      await worker.call("connect", {
        urls: [url],
        count: 30,
        localAddresses: sourceAddresses(0),
        roomCode: poll.roomCode,
      });
    }
    const loadStart = now();
    const load = worker.call("vote-loop", { durationMs: loadSeconds * 1000 });
    load.catch(() => undefined);
    await waitReplicas(maxReplicas, "scale-up on CPU", 150_000);
    await new Promise((r) => setTimeout(r, holdAtMaxMs));
    // Ends the votes at once: the worker's clients close with its process.
    worker.child.kill();
    const loadEnd = now();
    mark("CPU load ends");
    await waitReplicas(minReplicas, "scale-down after the load", 180_000);
    const rescales = await rescalesSince(since);
    expect(rescales.map((e) => e.replicas)).toEqual([3, 4, 3, 2]);
    const [up3, up4, down3, down2] = rescales as [Rescale, Rescale, Rescale, Rescale];
    // Up: one pod per 10 s period (the test policy), the reason CPU; never above maxReplicas.
    expect(up4.t - up3.t).toBeGreaterThanOrEqual(PERIOD_SECONDS - 1);
    for (const e of [up3, up4])
      expect(e.reason).toMatch(/cpu resource utilization \(percentage of request\) above target/);
    // Down: only after the load stopped and the stabilization window passed, one pod per period, never below
    // minReplicas.
    expect(down3.t - loadEnd).toBeGreaterThanOrEqual(WINDOW_SECONDS);
    expect(down2.t - down3.t).toBeGreaterThanOrEqual(PERIOD_SECONDS - 1);
    const during = timeline.filter((s) => s.t >= loadStart);
    expect(Math.max(...during.map((s) => s.replicas))).toBe(maxReplicas);
    expect(Math.min(...during.map((s) => s.replicas))).toBe(minReplicas);
  }, 420_000);

  it("connections above 5,000 per pod scale up step by step; an adapter outage blocks scale-down; a drain respects the PDB", async () => {
    mark("CPU request raised");
    await helmRelease("upgrade", {
      resources: { requests: { cpu: "4", memory: "256Mi" }, limits: { memory: "512Mi" } },
    });
    await waitFor(
      "the rollout's 2 new pods, each with its stand-in",
      async () => {
        const p = await pods();
        return (
          p.length === minReplicas &&
          p.every((x) => standIns.has(x.metadata.name)) &&
          (await replicas()) === minReplicas
        );
      },
      120_000,
      500,
    );
    const since = new Date().toISOString();
    const workers: Worker[] = Array.from({ length: 5 }, () => takeWorker());
    try {
      // Wave 1: 12,000 clients over the two pods, 6,000 each (1.2 × the target) → the HPA asks for 3.
      mark("12,000 connections");
      const wave1 = await connectAcross(workers.slice(0, 3), {
        urls: serviceUrls(),
        total: 12_000,
        concurrency: 50,
      });
      expect(wave1.reduce((a, r) => a + r.connected, 0)).toBe(12_000);
      await waitReplicas(3, "scale-up on connections", 90_000);
      // Wave 2, at once (before the 20 s scale-down window would let the new, empty pod pull the average back):
      // 7,000 more over the three pods, 19,000 in all, 6,333 per pod → 4.
      mark("+7,000 connections");
      const urls = serviceUrls();
      const wave2 = await Promise.all(
        workers
          .slice(3)
          .map((w, i) =>
            w.call("connect", { urls, count: 3500, localAddresses: sourceAddresses(3 + i), concurrency: 50 }),
          ),
      );
      expect(wave2.reduce((a, r) => a + r.connected, 0)).toBe(7000);
      await waitReplicas(maxReplicas, "second scale-up on connections", 90_000);
      const up = await rescalesSince(since);
      expect(up.map((e) => e.replicas)).toEqual([3, 4]);
      for (const e of up) expect(e.reason).toMatch(/pods metric websocket_connections_current above target/);
      expect((up[1] as Rescale).t - (up[0] as Rescale).t).toBeGreaterThanOrEqual(PERIOD_SECONDS - 1);
      const atMax = timeline.filter(
        (s) => s.replicas === maxReplicas && s.metrics.websocket_connections_current,
      );
      // The HPA's own view: the average it scaled on was above the target.
      expect(
        Math.max(
          ...timeline
            .filter((s) => s.t >= (up[0] as Rescale).t - 5)
            .map((s) => s.metrics.websocket_connections_current ?? 0),
        ),
      ).toBeGreaterThan(CONNECTIONS_TARGET);
      expect(atMax.length).toBeGreaterThan(0);
      // The adapter goes down before the clients leave, so the falling connection counts are never served.
      mark("adapter down, clients gone");
      await cp.kill("custom-metrics-adapter");
    } finally {
      await Promise.all(workers.map((w) => w.call("close").catch(() => undefined)));
      for (const w of workers) w.child.kill();
    }
    const outageStart = now();
    try {
      // A node pool replacement during the outage: every node cordoned, the one with the most pods drained
      // through the eviction API as `kubectl drain` does. Its first pod's replacement has nowhere to go until
      // capacity returns, so the PDB (maxUnavailable 1) must refuse the second eviction meanwhile.
      const byNode = new Map<string, string[]>();
      for (const p of await pods())
        byNode.set(p.spec.nodeName, [...(byNode.get(p.spec.nodeName) ?? []), p.metadata.name]);
      const [node, victims] = [...byNode].sort((a, b) => b[1].length - a[1].length)[0] as [string, string[]];
      expect(victims.length).toBeGreaterThanOrEqual(2);
      const cordon = (name: string, unschedulable: boolean) =>
        cp.api.patch({ apiVersion: "v1", kind: "Node", metadata: { name }, spec: { unschedulable } });
      for (const n of cp.nodes) await cordon(n.name, true);
      mark("all nodes cordoned, drain starts");
      let minReady = Number.POSITIVE_INFINITY;
      const readyNow = async () => {
        minReady = Math.min(minReady, (await pods()).filter(isReady).length);
      };
      const [first, ...rest] = victims as [string, ...string[]];
      await readyNow();
      expect(await cp.api.evict(NS, first)).toBe(true);
      let refused = 0;
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 500));
        await readyNow();
        if (!(await cp.api.evict(NS, rest[0] as string))) refused++;
      }
      expect(refused).toBe(5);
      mark(`${refused} evictions refused by the PDB while the replacement had no node`);
      for (const n of cp.nodes.filter((n) => n.name !== node)) await cordon(n.name, false);
      for (const victim of rest)
        await waitFor(
          `eviction of ${victim} once capacity is back`,
          async () => {
            await readyNow();
            return cp.api.evict(NS, victim);
          },
          60_000,
          250,
        );
      await waitFor(
        "the drained pods replaced on other nodes",
        async () => {
          const p = await pods();
          minReady = Math.min(minReady, p.filter(isReady).length);
          return p.length === maxReplicas && p.every(isReady) && p.every((x) => x.spec.nodeName !== node);
        },
        60_000,
        250,
      );
      await cordon(node, false);
      mark(`drain done: ${victims.length} pods evicted, never fewer than ${minReady} Ready`);
      expect(minReady).toBeGreaterThanOrEqual(maxReplicas - 1);

      // No scale-down while a metric is unavailable, however long: past the window and two periods.
      const holdUntil = outageStart + WINDOW_SECONDS + 2 * PERIOD_SECONDS + 5;
      while (now() < holdUntil) {
        expect(await replicas()).toBe(maxReplicas);
        await new Promise((r) => setTimeout(r, 1000));
      }
      const condition = ((await hpa()).status?.conditions ?? []).find(
        (c: { type: string }) => c.type === "ScalingActive",
      );
      expect(condition).toMatchObject({ status: "False", reason: "FailedGetPodsMetric" });
      expect(timeline.filter((s) => s.t >= outageStart).every((s) => s.replicas === maxReplicas)).toBe(true);
    } catch (e) {
      // The later scenarios need the adapter.
      cp.restart("custom-metrics-adapter");
      throw e;
    }
    mark("adapter back");
    const back = new Date().toISOString();
    cp.restart("custom-metrics-adapter");
    await waitReplicas(minReplicas, "scale-down once the metrics are back", 180_000);
    const down = await rescalesSince(back);
    expect(down.map((e) => e.replicas)).toEqual([3, 2]);
    expect((down[1] as Rescale).t - (down[0] as Rescale).t).toBeGreaterThanOrEqual(PERIOD_SECONDS - 1);
    expect(
      Math.min(...timeline.filter((s) => s.t >= outageStart).map((s) => s.replicas)),
    ).toBeGreaterThanOrEqual(minReplicas);
  }, 600_000);

  it("a request rate above 500 per pod scales up on http_requests_per_second", async () => {
    mark("2,400 requests/s");
    const since = new Date().toISOString();
    // 1,200 requests/s to each of the two pods. The adapter rule's rate over 2 minutes follows a step in load
    // over those 2 minutes, as it would in a cluster: at 2.4 × the target it passes the target's tolerance
    // (550) after about 55 s.
    const load = await Promise.all(
      serviceUrls().map(async (url) => {
        const poll = (await api(url, "/api/polls", { body: { question: "rate", options: ["a", "b"] } }))
          .body as {
          roomCode: string;
        };
        return spawn(
          process.execPath,
          [
            join(REPO_ROOT, "node_modules/autocannon/autocannon.js"),
            "-c",
            "10",
            "-R",
            "1200",
            "-d",
            "120",
            `${url}/api/polls/${poll.roomCode}/results`,
          ],
          { stdio: "ignore" },
        );
      }),
    );
    try {
      await waitReplicas(3, "scale-up on request rate", 120_000);
    } finally {
      for (const c of load) c.kill("SIGKILL");
      mark("requests stop");
    }
    const up = await rescalesSince(since);
    expect(up.map((e) => e.replicas)).toEqual([3]);
    expect((up[0] as Rescale).reason).toMatch(/pods metric http_requests_per_second above target/);
    expect(
      Math.max(
        ...timeline
          .filter((s) => s.t >= (up[0] as Rescale).t - 5)
          .map((s) => s.metrics.http_requests_per_second ?? 0),
      ),
    ).toBeGreaterThan(REQUEST_RATE_TARGET);
  }, 300_000);
});
