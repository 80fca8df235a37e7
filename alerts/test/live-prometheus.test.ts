/**
 * The monitoring against the real thing: Debian's Prometheus scrapes three running Zephyr processes (one
 * PostgreSQL, one Redis) labelled as the ServiceMonitor would label them, plus a stand-in kube-state-metrics,
 * evaluates the real rule file, and answers every dashboard query, the adapter's query, the InstanceDown alert
 * and the ZephyrHpaMetricsUnavailable alert.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { adapterRules, expandMetricsQuery } from "../../test/adapter-rules.js";
import { JOB_VALUE, loadGroups } from "../../test/alert-rules.js";
import { dashboards, queriesOf, substituteVariables } from "../../test/dashboard-queries.js";
import { prometheusBin } from "../../test/prometheus.js";
import {
  createDatabase,
  freePort,
  type RedisServer,
  requireServices,
  startRedis,
} from "../../test/services.js";
import { api, spawnZephyr, waitFor, type ZephyrProcess } from "../../test/zephyr.js";

const services = requireServices("postgres", "redis");

const NAMESPACE = "live";
const PODS = ["zephyr-7d9f8b6c5-aaaaa", "zephyr-7d9f8b6c5-bbbbb", "zephyr-7d9f8b6c5-ccccc"];
// Scrape and evaluate every second, and shorten the `for` of the alerts tested here, so the test waits seconds,
// not minutes.
const SHORT_FOR: Record<string, string> = { InstanceDown: "5s", ZephyrHpaMetricsUnavailable: "5s" };

/** The HPA's metrics as kube-state-metrics reports them: target type, target, and current value. */
const HPA_METRICS = {
  cpu: { type: "utilization", target: 70, current: 35 },
  websocket_connections_current: { type: "average", target: 5000, current: 1 },
  http_requests_per_second: { type: "average", target: 500, current: 2 },
};
/** What the HPA controller last wrote: its ScalingActive condition and the metrics it could read. */
const hpaStatus = { scalingActive: true, read: Object.keys(HPA_METRICS) };

/** What kube-state-metrics reports for the Deployment, its pods and its HPA. */
function kubeStateMetrics(): string {
  const hpa = `namespace="${NAMESPACE}",horizontalpodautoscaler="zephyr"`;
  const scalingActive = `${hpa},condition="ScalingActive"`;
  return [
    `kube_horizontalpodautoscaler_info{${hpa},scaletargetref_api_version="apps/v1",scaletargetref_kind="Deployment",scaletargetref_name="zephyr"} 1`,
    `kube_horizontalpodautoscaler_status_current_replicas{${hpa}} 3`,
    `kube_horizontalpodautoscaler_status_desired_replicas{${hpa}} 3`,
    `kube_horizontalpodautoscaler_spec_min_replicas{${hpa}} 2`,
    `kube_horizontalpodautoscaler_spec_max_replicas{${hpa}} 10`,
    ...Object.entries(HPA_METRICS).map(
      ([name, m]) =>
        `kube_horizontalpodautoscaler_spec_target_metric{${hpa},metric_name="${name}",metric_target_type="${m.type}"} ${m.target}`,
    ),
    ...Object.entries(HPA_METRICS)
      .filter(([name]) => hpaStatus.read.includes(name))
      .map(
        ([name, m]) =>
          `kube_horizontalpodautoscaler_status_target_metric{${hpa},metric_name="${name}",metric_target_type="${m.type}"} ${m.current}`,
      ),
    `kube_horizontalpodautoscaler_status_condition{${scalingActive},status="true"} ${hpaStatus.scalingActive ? 1 : 0}`,
    `kube_horizontalpodautoscaler_status_condition{${scalingActive},status="false"} ${hpaStatus.scalingActive ? 0 : 1}`,
    `kube_horizontalpodautoscaler_status_condition{${scalingActive},status="unknown"} 0`,
    ...PODS.flatMap((pod) => [
      `kube_pod_owner{namespace="${NAMESPACE}",pod="${pod}",owner_kind="ReplicaSet",owner_name="zephyr-7d9f8b6c5",owner_is_controller="true"} 1`,
      `kube_pod_container_status_restarts_total{namespace="${NAMESPACE}",pod="${pod}",container="zephyr",uid="u-${pod}"} 0`,
    ]),
    "",
  ].join("\n");
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

describe.skipIf(!prometheusBin || !services)("live Prometheus", () => {
  const tmp = mkdtempSync(join(tmpdir(), "zephyr-live-prom-"));
  let redis: RedisServer | undefined;
  const instances: ZephyrProcess[] = [];
  const sockets: Socket[] = [];
  let ksm: Server | undefined;
  let prometheus: ChildProcess | undefined;
  let promLog = "";
  let promUrl = "";

  async function query(expr: string): Promise<PromResult[]> {
    const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
    if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
    return body.data?.result ?? [];
  }

  /** Polls the alert with these labels until it is firing; resolves with the states it went through. */
  async function watchUntilFiring(labels: Record<string, string>, what: string): Promise<string[]> {
    const states: string[] = [];
    await waitFor(
      async () => {
        const res = await fetch(`${promUrl}/api/v1/alerts`);
        const body = (await res.json()) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        const alert = body.data.alerts.find((a) =>
          Object.entries(labels).every(([k, v]) => a.labels[k] === v),
        );
        if (alert && states.at(-1) !== alert.state) states.push(alert.state);
        return alert?.state === "firing";
      },
      { timeoutMs: 30_000, intervalMs: 100, what },
    );
    return states;
  }

  beforeAll(async () => {
    const postgresUrl = inject("postgresUrl");
    if (!postgresUrl) throw new Error("the global setup started no PostgreSQL");
    // Its own Redis: the Socket.IO adapter's channels are global to a Redis, and other suites run beside this one.
    redis = await startRedis();
    const databaseUrl = await createDatabase(postgresUrl, "prom");
    instances.push(
      ...(await Promise.all(
        PODS.map((pod) =>
          spawnZephyr({ DATABASE_URL: databaseUrl, REDIS_URL: redis?.url, INSTANCE_ID: pod }),
        ),
      )),
    );

    const ksmPort = await freePort();
    ksm = createServer((_, res) => {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(kubeStateMetrics());
    });
    await new Promise<void>((r) => ksm?.listen(ksmPort, "127.0.0.1", r));

    const groups = loadGroups().map((g) => ({
      ...g,
      rules: g.rules.map((r) => (r.alert && SHORT_FOR[r.alert] ? { ...r, for: SHORT_FOR[r.alert] } : r)),
    }));
    writeFileSync(join(tmp, "zephyr.rules.yml"), stringify({ groups }));
    writeFileSync(
      join(tmp, "prometheus.yml"),
      stringify({
        global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
        rule_files: ["zephyr.rules.yml"],
        scrape_configs: [
          {
            // The labels a ServiceMonitor produces: job, namespace, pod, container, service (instance = address).
            job_name: JOB_VALUE,
            static_configs: instances.map((z, i) => ({
              targets: [`127.0.0.1:${z.port}`],
              labels: { namespace: NAMESPACE, pod: PODS[i], container: "zephyr", service: "zephyr" },
            })),
          },
          {
            job_name: "kube-state-metrics",
            honor_labels: true,
            static_configs: [{ targets: [`127.0.0.1:${ksmPort}`] }],
          },
        ],
      }),
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prometheus = spawn(
      prometheusBin as string,
      [
        `--config.file=${join(tmp, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(tmp, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stdout?.on("data", (d) => (promLog += d));
    prometheus.stderr?.on("data", (d) => (promLog += d));
    await waitFor(async () => (await fetch(`${promUrl}/-/ready`)).ok, {
      timeoutMs: 30_000,
      what: "Prometheus ready",
    }).catch((e) => {
      throw new Error(`${e}\n${promLog}`);
    });
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    prometheus?.kill("SIGKILL");
    for (const z of instances) z.kill("SIGKILL");
    await Promise.all(instances.map((z) => z.exited));
    await new Promise((r) => (ksm ? ksm.close(r) : r(undefined)));
    await redis?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("scrapes the three instances with the ServiceMonitor's labels", async () => {
    const up = await waitFor(
      async () => {
        const r = await query(`up{job="${JOB_VALUE}"} == 1`);
        return r.length === PODS.length ? r : undefined;
      },
      { what: "three targets up" },
    );
    expect(up.map((r) => r.metric.pod).sort()).toEqual(PODS);
    for (const r of up)
      expect(r.metric).toMatchObject({ namespace: NAMESPACE, container: "zephyr", service: "zephyr" });
  });

  it("sees votes over HTTP and Socket.IO on every instance, delivered across instances", async () => {
    const [a, b, c] = instances as [ZephyrProcess, ZephyrProcess, ZephyrProcess];
    const created = await api(a.url, "/api/polls", {
      body: { question: "Monitoring works?", options: ["yes", "no", "maybe"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const roomCode = created.body.roomCode as string;

    // One socket participant per instance; each must see the votes cast on the others (Redis adapter).
    const updates: number[][] = PODS.map(() => []);
    for (const [i, z] of instances.entries()) {
      const s = io(z.url, { transports: ["websocket"], forceNew: true, reconnection: false });
      sockets.push(s);
      s.on("vote-update", (u: { total: number }) => {
        updates[i]?.push(u.total);
      });
      const joined = await s.timeout(5000).emitWithAck("join-poll", { roomCode, nickname: `socket-${i}` });
      expect(joined.ok, JSON.stringify(joined)).toBe(true);
    }
    for (const [i, s] of sockets.entries()) {
      const ack = await s.timeout(5000).emitWithAck("submit-vote", { optionIndex: i % 3 });
      expect(ack.ok, JSON.stringify(ack)).toBe(true);
    }
    const rejected = await (sockets[0] as Socket)
      .timeout(5000)
      .emitWithAck("submit-vote", { optionIndex: 7 });
    expect(rejected.ok).toBe(false);

    for (const [i, z] of [a, b, c, a, b, c].entries()) {
      const joined = await api(z.url, `/api/polls/${roomCode}/participants`, {
        body: { nickname: `http-${i}` },
      });
      expect(joined.status, JSON.stringify(joined.body)).toBe(201);
      const vote = await api(z.url, `/api/polls/${roomCode}/votes`, {
        body: { optionIndex: i % 3 },
        token: joined.body.participantToken,
      });
      expect(vote.status, JSON.stringify(vote.body)).toBe(200);
    }
    const totalVotes = sockets.length + 6;
    await waitFor(async () => updates.every((u) => u.includes(totalVotes)), {
      what: "every instance's socket to see the last vote",
    });

    const accepted = await waitFor(
      async () => {
        const r = await query(`sum(zephyr_votes_accepted_total{job="${JOB_VALUE}"})`);
        return Number(r[0]?.value[1]) === totalVotes ? r : undefined;
      },
      { what: "Prometheus to scrape every accepted vote" },
    );
    expect(accepted).toHaveLength(1);
    await waitFor(async () => (await query(`zephyr_votes_rejected_total{job="${JOB_VALUE}"}`)).length > 0, {
      what: "the rejected vote scraped",
    });
    // The recording rules run too (zephyr:kube_hpa:info feeds the scaling dashboard).
    await waitFor(async () => (await query("zephyr:kube_hpa:info")).length === 1, {
      what: "zephyr:kube_hpa:info",
    });
    // Let each rate window hold a couple of samples after the traffic.
    await new Promise((r) => setTimeout(r, 3000));
  });

  const panelQueries = dashboards.flatMap((d) => queriesOf(d).map((q) => ({ ...q, uid: d.uid })));
  it.each(panelQueries.map((q) => [`${q.uid} / ${q.panel} / ${q.target.refId}`, q] as const))(
    "dashboard query %s returns data",
    async (_, q) => {
      const result = await query(substituteVariables(q.expr));
      expect(result.length, substituteVariables(q.expr)).toBeGreaterThan(0);
    },
  );

  it("dashboard variables list this deployment", async () => {
    for (const d of dashboards) {
      for (const v of d.templating.list.filter((x) => x.type === "query")) {
        // label_values(selector, label): the selector must match and carry the label.
        const m = /^label_values\((.*), (\w+)\)$/.exec(v.query ?? "");
        expect(m, v.query).not.toBeNull();
        const result = await query(substituteVariables((m as RegExpExecArray)[1] as string));
        const values = new Set(result.map((r) => r.metric[(m as RegExpExecArray)[2] as string]));
        expect([...values].filter(Boolean).length, `${d.uid} $${v.name}`).toBeGreaterThan(0);
      }
    }
  });

  it("the adapter's metricsQuery, expanded as the adapter does, returns one value per pod", async () => {
    const rule = adapterRules().find((r) => r.name.as === "websocket_connections_current");
    expect(rule).toBeDefined();
    const result = await query(expandMetricsQuery(rule as never, NAMESPACE, PODS));
    expect(result.map((r) => r.metric.pod).sort()).toEqual(PODS);
    expect(result.map((r) => Object.keys(r.metric))).toEqual(PODS.map(() => ["pod"]));
    // One socket per instance is connected.
    expect(result.map((r) => Number(r.value[1]))).toEqual([1, 1, 1]);
  });

  it("the adapter's request-rate query gives each pod its own requests per second", async () => {
    const rule = adapterRules().find((r) => r.name.as === "http_requests_per_second");
    expect(rule).toBeDefined();
    // 300, 900 and 1,800 extra requests: far more than the other tests send to any instance (a few dozen), so
    // the pods' order is the extra load's whatever else each served.
    await Promise.all(
      instances.map(async (z, i) => {
        for (let k = 0; k < (300 * (i + 1) * (i + 2)) / 2; k++)
          await fetch(`${z.url}/api/polls/NOPE00/results`);
      }),
    );
    const perPod = await waitFor(
      async () => {
        const result = await query(expandMetricsQuery(rule as never, NAMESPACE, PODS));
        const [a, b, c] = PODS.map((p) =>
          Number(result.find((r) => r.metric.pod === p)?.value[1] ?? Number.NaN),
        );
        return result.length === PODS.length && (a as number) < (b as number) && (b as number) < (c as number)
          ? result
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "request rate per pod in extra-load order" },
    );
    expect(perPod.map((r) => Object.keys(r.metric))).toEqual(PODS.map(() => ["pod"]));
  });

  it("ZephyrHpaMetricsUnavailable goes pending, then firing, when the HPA loses its custom metrics", async () => {
    const alert = {
      alertname: "ZephyrHpaMetricsUnavailable",
      namespace: NAMESPACE,
      horizontalpodautoscaler: "zephyr",
    };
    const active = `ALERTS{alertname="${alert.alertname}"}`;
    // Every metric read: the expression is evaluated (the recorded HPA link exists) and finds nothing.
    await waitFor(async () => (await query("zephyr:kube_hpa:info")).length === 1, {
      what: "zephyr:kube_hpa:info",
    });
    expect(await query(active)).toEqual([]);
    // prometheus-adapter down while CPU still asks for the current replicas: ScalingActive stays True, the two
    // Pods metrics lose their current value.
    hpaStatus.read = ["cpu"];
    expect(await watchUntilFiring(alert, "alert firing on the missing values")).toEqual([
      "pending",
      "firing",
    ]);
    // Back, then every metric lost: ScalingActive=False, nothing read.
    hpaStatus.read = Object.keys(HPA_METRICS);
    await waitFor(async () => (await query(active)).length === 0, { what: "alert resolved" });
    Object.assign(hpaStatus, { scalingActive: false, read: [] });
    expect(await watchUntilFiring(alert, "alert firing on ScalingActive=False")).toEqual([
      "pending",
      "firing",
    ]);
    Object.assign(hpaStatus, { scalingActive: true, read: Object.keys(HPA_METRICS) });
  });

  it("InstanceDown goes pending, then firing, for a killed instance", async () => {
    const victim = instances[2] as ZephyrProcess;
    const pod = PODS[2];
    victim.kill("SIGKILL");
    await victim.exited;
    expect(
      await watchUntilFiring({ alertname: "InstanceDown", pod: pod as string }, "InstanceDown firing"),
    ).toEqual(["pending", "firing"]);
    // Only the killed instance is down.
    const down = await query(`ALERTS{alertname="InstanceDown",alertstate="firing"}`);
    expect(down.map((r) => r.metric.pod)).toEqual([pod]);
  });
});
