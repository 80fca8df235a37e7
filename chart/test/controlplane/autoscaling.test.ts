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
 * Test values shorten the chart's scale-down stabilization window (600 s → 20 s), the policies' periods and the
 * replica range (2–4), so a scaling run takes seconds, not minutes; the metrics, targets and target types are the
 * chart's own.
 */

import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { sourceAddresses, takeWorker } from "../../../loadtest/bench/workers.js";
import { adapterRules, expandMetricsQuery } from "../../../test/adapter-rules.js";
import { CHART, REPO_ROOT } from "../../../test/paths.js";
import { type Prometheus, prometheusBin, startPrometheus } from "../../../test/prometheus.js";
import { api, spawnZephyr, type ZephyrProcess } from "../../../test/zephyr.js";
import { type ControlPlane, startControlPlane } from "./cluster.js";
import { metricsToolsPresent, tools, toolsPresent } from "./requirements.js";
import { waitFor } from "./wait.js";

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

const ready = toolsPresent && metricsToolsPresent && !!prometheusBin;

/** One observation of the HPA: replicas and what it saw, for the scaling timeline. */
interface Sample {
  t: number;
  replicas: number;
  desired: number;
  metrics: Record<string, number>;
}

describe.skipIf(!ready)("HPA controller scaling the chart's Deployment from real metrics APIs", () => {
  let cp: ControlPlane;
  let prom: Prometheus;
  const instances: ZephyrProcess[] = [];
  /** kwok pod name → the real instance standing in for it (the pods that existed after install). */
  const standIns = new Map<string, ZephyrProcess>();
  const timeline: Sample[] = [];
  let feeding = true;
  let feeder: Promise<void> | undefined;
  const t0 = Date.now();

  const helm = (args: string[]) =>
    promisify(execFile)(tools.helm as string, args, { env: cp.env, cwd: REPO_ROOT, timeout: 240_000 });
  const pods = async () =>
    (await cp.api.list("v1", "Pod", NS, SELECTOR)).filter((p) => !p.metadata.deletionTimestamp);
  const hpa = () => cp.api.get("autoscaling/v2", "HorizontalPodAutoscaler", NS, RELEASE);

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
      try {
        const names = [...standIns.keys()];
        const values = await adapterValues(names);
        for (const [metric, byPod] of Object.entries(values))
          for (const [pod, value] of Object.entries(byPod))
            await fetch(`${cp.customMetricsWriteUrl}/namespaces/${NS}/pods/${pod}/${metric}`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(`${Math.round(value * 1000)}m`),
            });
        const cpu = await prom.query(
          `sum by (pod) (rate(process_cpu_seconds_total{job="zephyr",namespace="${NS}"}[5s]))`,
        );
        for (const r of cpu) {
          const millicores = `${Math.max(1, Math.round(Number(r.value[1]) * 1000))}m`;
          await cp.api.patch({
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
              name: r.metric.pod as string,
              namespace: NS,
              annotations: { "kwok.x-k8s.io/usage-cpu": millicores },
            },
          });
        }
        const h = await hpa();
        timeline.push({
          t: Math.round((Date.now() - t0) / 100) / 10,
          replicas: h.status?.currentReplicas ?? 0,
          desired: h.status?.desiredReplicas ?? 0,
          metrics: Object.fromEntries(
            (h.status?.currentMetrics ?? []).map((m: any) => [
              m.type === "Resource" ? "cpuUtilization" : m.pods.metric.name,
              m.type === "Resource"
                ? m.resource.current.averageUtilization
                : Number.parseFloat(m.pods.current.averageValue),
            ]),
          ),
        });
      } catch {
        // The next round retries; a failing feed shows as a scaling test timing out, with the timeline.
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  beforeAll(async () => {
    cp = await startControlPlane({ metricsApis: true });
    const values = join(cp.dir, "autoscaling-values.yaml");
    writeFileSync(values, stringify(TEST_VALUES));
    await helm([
      "install",
      RELEASE,
      CHART,
      "-n",
      NS,
      "--create-namespace",
      "--wait",
      "--timeout",
      "3m",
      // The minimal install (its secrets name a database and Redis nobody connects to: kwok runs no container).
      "-f",
      join(CHART, "ci", "minimal-values.yaml"),
      "-f",
      values,
    ]);
    const initial = await waitFor("2 pods of the release", async () => {
      const p = await pods();
      return p.length === 2 && p;
    });
    // Embedded storage, one per instance: only each one's own metrics matter here. The load comes from few
    // addresses, which the per-address limits would rightly throttle.
    const env = { RATE_LIMIT_VOTE: "1000000", RATE_LIMIT_JOIN: "1000000", RATE_LIMIT_POLL_CREATE: "1000000" };
    instances.push(...(await Promise.all(initial.map(() => spawnZephyr(env)))));
    for (const [i, p] of initial.entries()) standIns.set(p.metadata.name, instances[i] as ZephyrProcess);
    prom = await startPrometheus(
      cp.dir,
      [...standIns].map(([pod, z]) => ({ address: `127.0.0.1:${z.port}`, namespace: NS, pod })),
    );
    feeder = feed();
  }, 300_000);

  afterAll(async () => {
    feeding = false;
    await feeder;
    mkdirSync(join(REPO_ROOT, ".tmp"), { recursive: true });
    writeFileSync(join(REPO_ROOT, ".tmp", "autoscaling-timeline.json"), JSON.stringify(timeline));
    for (const z of instances) z.kill("SIGKILL");
    await prom?.stop();
    await cp?.stop();
  }, 60_000);

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
    // Real CPU: participants on both stand-ins vote in a closed loop over Socket.IO (no HTTP requests, few
    // connections, so CPU is the metric above its target).
    const worker = takeWorker();
    const loadSeconds = 75;
    const events = await waitForScaling(async () => {
      for (const z of instances) {
        const poll = (
          await api(z.url, "/api/polls", {
            body: { question: "load", options: ["a", "b"], allowVoteChange: true },
          })
        ).body as { roomCode: string };
        await worker.call("connect", {
          urls: [z.url],
          count: 30,
          localAddresses: sourceAddresses(0),
          roomCode: poll.roomCode,
        });
      }
      const loadStart = (Date.now() - t0) / 1000;
      const load = worker.call("vote-loop", { durationMs: loadSeconds * 1000 });
      const up = await waitFor(
        "scale-up to maxReplicas (4)",
        async () => (await hpa()).status?.currentReplicas === 4 && true,
        150_000,
        1000,
      );
      await load;
      await worker.call("close");
      worker.child.kill();
      const loadEnd = (Date.now() - t0) / 1000;
      await waitFor(
        "scale-down to minReplicas (2)",
        async () => (await hpa()).status?.currentReplicas === 2 && (await pods()).length === 2,
        180_000,
        1000,
      );
      return { up, loadStart, loadEnd };
    });
    expect(events.rescales.map((e) => e.replicas)).toEqual([3, 4, 3, 2]);
    // Up: one pod per 10 s period (the test policy), the reason CPU; never above maxReplicas.
    const [up3, up4, down3, down2] = events.rescales;
    expect((up4?.t ?? 0) - (up3?.t ?? 0)).toBeGreaterThanOrEqual(9);
    for (const e of events.rescales.slice(0, 2))
      expect(e.reason).toMatch(/cpu resource utilization \(percentage of request\) above target/);
    // Down: only after the load stopped and the 20 s stabilization window passed, one pod per period, and
    // never below minReplicas.
    expect((down3?.t ?? 0) - events.loadEnd).toBeGreaterThanOrEqual(20);
    expect((down2?.t ?? 0) - (down3?.t ?? 0)).toBeGreaterThanOrEqual(9);
    expect(Math.max(...timeline.map((s) => s.replicas))).toBe(4);
    expect(Math.min(...timeline.filter((s) => s.t > events.loadStart).map((s) => s.replicas))).toBe(2);
  }, 420_000);

  /** Runs a scenario and returns the HPA's rescale events during it, in order, with their time and reason. */
  async function waitForScaling<T extends { loadEnd: number; loadStart: number }>(run: () => Promise<T>) {
    const since = new Date().toISOString();
    const r = await run();
    const list = await cp.api.list("v1", "Event", NS);
    const rescales = list
      .filter((e) => e.reason === "SuccessfulRescale" && (e.lastTimestamp ?? e.eventTime ?? "") >= since)
      .sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp)))
      .map((e) => ({
        t: (Date.parse(e.lastTimestamp) - t0) / 1000,
        replicas: Number(/New size: (\d+)/.exec(e.message)?.[1]),
        reason: String(e.message),
      }));
    return { ...r, rescales };
  }
});
