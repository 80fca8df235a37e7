/**
 * autoscaling.engine=keda: a KEDA ScaledObject in place of the HPA, from the same replicas, targets and behavior,
 * its Prometheus triggers the prometheus-adapter rules' queries summed over the release's Deployment. Validated
 * strictly against KEDA's CRD from ../shared/schemas/crds; the real API server's acceptance is checked in
 * controlplane/lifecycle.test.ts.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type AdapterRule, adapterRules, expandMetricsQuery } from "../../test/adapter-rules.js";
import { CRD_DIR, type CrdValidator, crdValidator, requireCrdDir } from "../../test/crd.js";
import { helm, type K8sObject, type Rendered, render } from "../../test/helm.js";
import { selectors } from "../../test/promql.js";
import { scratchDir } from "../../test/scratch.js";
import { requirePromtool } from "../../test/tools.js";
import { ciValues } from "./support.js";

const promtool = requirePromtool();
const SO_CRD = "keda.sh_scaledobjects.yaml";
const crds = requireCrdDir([SO_CRD]);
const kedaValues = ciValues.keda as string;
/** A Prometheus address, for rendering the KEDA engine from values files that have none. */
const SERVER = "autoscaling.keda.prometheusServerAddress=http://prometheus.monitoring.svc:9090";
/** The Deployment's pods: <deployment>-<pod-template-hash>-<5 characters>. */
const podRegex = (deployment: string) => `${deployment}-[a-z0-9]+-[a-z0-9]{5}`;

// Settings away from every default, so a value the template ignored or hard-coded would show.
const CUSTOM = [
  "autoscaling.minReplicas=3",
  "autoscaling.maxReplicas=7",
  "autoscaling.targetCPUUtilizationPercentage=60",
  "autoscaling.websocketConnections.averageValue=1.5k",
  "autoscaling.requestRate.averageValue=250",
  "autoscaling.behavior.scaleDown.stabilizationWindowSeconds=300",
];

const scaledObject = (r: Rendered) => r.get("ScaledObject", "zephyr");
const promTriggers = (so: K8sObject) =>
  (so.spec.triggers as K8sObject[]).filter((t) => t.type === "prometheus");
/** A Kubernetes quantity as the number it stands for ("1.5k" = 1500). */
const quantity = (q: string | number) => {
  const m = /^([0-9.]+)([kMG]?)$/.exec(String(q));
  if (!m) throw new Error(`not a quantity: ${q}`);
  const scale: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9 };
  return Number(m[1]) * (scale[m[2] as string] as number);
};

describe.skipIf(!helm)("autoscaling.engine: hpa or keda, never both", () => {
  let keda: Rendered;
  let kedaAsHpa: Rendered;
  let custom: Rendered;
  let customAsHpa: Rendered;
  let kedaDisabled: Rendered;
  let hpa: Rendered;
  let off: Rendered;
  beforeAll(async () => {
    [keda, kedaAsHpa, custom, customAsHpa, kedaDisabled, hpa, off] = await Promise.all([
      render([kedaValues]),
      render([kedaValues], ["autoscaling.engine=hpa"]),
      render([kedaValues], CUSTOM),
      render([kedaValues], [...CUSTOM, "autoscaling.engine=hpa"]),
      render([kedaValues], ["autoscaling.enabled=false"]),
      render([ciValues.minimal as string]),
      render([ciValues["hpa-off"] as string]),
    ]);
  });

  it("keda: one ScaledObject (keda.sh/v1alpha1) for the release's Deployment, no HPA, replicas left to the autoscaler", () => {
    const so = scaledObject(keda);
    expect(so.apiVersion).toBe("keda.sh/v1alpha1");
    expect(so.metadata.namespace).toBe("zephyr");
    expect(so.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "zephyr" });
    expect(keda.all("HorizontalPodAutoscaler")).toEqual([]);
    expect(keda.get("Deployment", "zephyr").spec.replicas).toBeUndefined();
  });

  it("hpa (the default): the HPA only; autoscaling off: neither, whatever the engine", () => {
    for (const r of [hpa, kedaAsHpa]) {
      expect(r.all("HorizontalPodAutoscaler")).toHaveLength(1);
      expect(r.all("ScaledObject")).toEqual([]);
    }
    for (const r of [off, kedaDisabled]) {
      expect(r.all("HorizontalPodAutoscaler")).toEqual([]);
      expect(r.all("ScaledObject")).toEqual([]);
      expect(r.get("Deployment", "zephyr").spec.replicas).toBeGreaterThan(0);
    }
  });

  it.each([
    ["the ci values", () => [keda, kedaAsHpa] as const],
    ["settings away from the defaults", () => [custom, customAsHpa] as const],
  ])("%s: the ScaledObject states what the HPA would, setting for setting", (_name, pair) => {
    const [kedaRender, hpaRender] = pair();
    const so = scaledObject(kedaRender);
    const h = hpaRender.get("HorizontalPodAutoscaler", "zephyr");
    expect(so.spec.scaleTargetRef).toEqual(h.spec.scaleTargetRef);
    expect(so.spec.minReplicaCount).toBe(h.spec.minReplicas);
    expect(so.spec.maxReplicaCount).toBe(h.spec.maxReplicas);
    expect(so.spec.advanced).toEqual({ horizontalPodAutoscalerConfig: { behavior: h.spec.behavior } });

    const [cpu, ...rest] = h.spec.metrics as K8sObject[];
    expect(so.spec.triggers[0]).toEqual({
      type: "cpu",
      metricType: "Utilization",
      metadata: { value: String(cpu?.resource.target.averageUtilization) },
    });
    // One AverageValue Prometheus trigger per Pods metric, named after it, its threshold the same per-pod target.
    expect(
      promTriggers(so).map((t) => ({
        name: t.name,
        metricType: t.metricType,
        threshold: t.metadata.threshold,
      })),
    ).toEqual(
      rest.map((m) => ({
        name: m.pods.metric.name,
        metricType: "AverageValue",
        threshold: String(quantity(m.pods.target.averageValue)),
      })),
    );
    expect(so.spec.triggers).toHaveLength(3);
  });

  it("a trigger per enabled signal: the connection and request-rate flags drop their Prometheus trigger, never CPU", async () => {
    const cases = [
      [[], ["cpu", "websocket_connections_current", "http_requests_per_second"]],
      [["autoscaling.websocketConnections.enabled=false"], ["cpu", "http_requests_per_second"]],
      [["autoscaling.requestRate.enabled=false"], ["cpu", "websocket_connections_current"]],
      [["autoscaling.websocketConnections.enabled=false", "autoscaling.requestRate.enabled=false"], ["cpu"]],
    ] as const;
    const rendered = await Promise.all(cases.map(([set]) => render([kedaValues], [...set])));
    rendered.forEach((r, i) => {
      const triggers = scaledObject(r).spec.triggers as K8sObject[];
      expect(triggers.map((t) => t.name ?? t.type)).toEqual(cases[i]?.[1]);
    });
  });

  it("threshold: the per-pod target as the plain number KEDA parses, from any quantity the HPA takes", async () => {
    const targets = ["5000", "5k", "1.5k", "0.5", "250"];
    const rendered = await Promise.all(
      targets.map((t) => render([kedaValues], [`autoscaling.websocketConnections.averageValue=${t}`])),
    );
    expect(rendered.map((r) => promTriggers(scaledObject(r))[0]?.metadata.threshold)).toEqual([
      "5000",
      "5000",
      "1500",
      "0.5",
      "250",
    ]);
  });

  it("Prometheus credentials: only a reference to a TriggerAuthentication and its authModes, on each Prometheus trigger", async () => {
    expect(promTriggers(scaledObject(keda)).every((t) => !t.authenticationRef && !t.metadata.authModes)).toBe(
      true,
    );
    const r = await render(
      [kedaValues],
      [
        "autoscaling.keda.authenticationRef.name=prometheus-credentials",
        "autoscaling.keda.authenticationRef.kind=ClusterTriggerAuthentication",
        "autoscaling.keda.authModes=tls\\,basic",
      ],
    );
    const [cpu, ...prom] = scaledObject(r).spec.triggers as K8sObject[];
    // metrics-server's CPU needs no credentials.
    expect(cpu?.authenticationRef).toBeUndefined();
    expect(prom).toHaveLength(2);
    for (const t of prom) {
      expect(t.authenticationRef).toEqual({
        name: "prometheus-credentials",
        kind: "ClusterTriggerAuthentication",
      });
      expect(t.metadata.authModes).toBe("tls,basic");
    }
  });

  describe("the Prometheus queries", () => {
    const rules = adapterRules();
    const adapterRule = (name: string) => rules.find((r) => r.name.as === name) as AdapterRule;
    /** The adapter's query for the Deployment's pods, summed instead of grouped by pod. */
    const adapterTotal = (rule: AdapterRule, namespace: string, podPattern: string) => {
      const perPod = expandMetricsQuery(rule, namespace, [podPattern]);
      expect(perPod.endsWith(" by (pod)")).toBe(true);
      return perPod.slice(0, -" by (pod)".length);
    };

    it("each is the adapter rule for its signal over the release's pods, summed: same series, filters and range", () => {
      const triggers = promTriggers(scaledObject(keda));
      expect(triggers).toHaveLength(2);
      for (const t of triggers) {
        expect(t.metadata.serverAddress).toBe("http://kube-prometheus-stack-prometheus.monitoring.svc:9090");
        expect(t.metadata.query).toBe(adapterTotal(adapterRule(t.name), "zephyr", podRegex("zephyr")));
      }
    });

    it("no connection series at all is an error, not KEDA's default of 0; no request series is 0 requests", () => {
      const [connections, requests] = promTriggers(scaledObject(keda));
      expect(connections?.metadata.ignoreNullValues).toBe("false");
      expect(requests?.metadata.ignoreNullValues).toBeUndefined();
    });

    it("every selector follows the release (namespace, Deployment name) and monitoring.job", async () => {
      const r = await render([kedaValues], ["fullnameOverride=polls", "monitoring.job=other"]);
      const so = r.get("ScaledObject", "polls");
      const found = promTriggers(so).flatMap((t) => selectors(t.metadata.query as string));
      expect(found.map((s) => s.name)).toEqual(["websocket_connections_current", "http_requests_total"]);
      for (const s of found)
        expect(s.matchers.filter((m) => m.label !== "route")).toEqual([
          { label: "namespace", op: "=", value: "zephyr" },
          { label: "pod", op: "=~", value: podRegex("polls") },
          { label: "job", op: "=", value: "other" },
        ]);
    });

    // promtool evaluates the rendered queries over series of this release's pods beside ones that must not count:
    // a Deployment whose name starts with this one's, a second scrape job of the same pod, another namespace. The
    // KEDA value must be the Deployment's total, and equal to the sum of what the adapter serves for each pod.
    it.skipIf(!promtool)(
      "return the Deployment's total: the sum of the adapter's per-pod values",
      async () => {
        const [connections, requests] = promTriggers(scaledObject(keda)).map(
          (t) => t.metadata.query as string,
        );
        const mine = ["zephyr-7d9f8b6c5-bcdfg", "zephyr-7d9f8b6c5-hjklm", "zephyr-5c4b9f7d8-npqrs"];
        const canary = "zephyr-canary-6f5d4c7b9-tvwxz";
        const gauge = (pod: string, value: number, job = "zephyr", ns = "zephyr") => ({
          series: `websocket_connections_current{job="${job}",namespace="${ns}",pod="${pod}",instance="${pod}:4000"}`,
          values: `${value}x10`,
        });
        // A counter growing by 60·n per minute is n requests per second.
        const counter = (pod: string, route: string, perSecond: number, job = "zephyr", ns = "zephyr") => ({
          series: `http_requests_total{job="${job}",namespace="${ns}",pod="${pod}",instance="${pod}:4000",method="GET",route="${route}",status="200"}`,
          values: `0+${perSecond * 60}x10`,
        });
        const input = [
          gauge(mine[0] as string, 120),
          gauge(mine[1] as string, 80),
          gauge(mine[2] as string, 0),
          gauge(canary, 1000),
          gauge(mine[0] as string, 120, "zephyr-podmonitor"),
          gauge(mine[0] as string, 7, "zephyr", "staging"),
          counter(mine[0] as string, "/api/polls/:roomCode/results", 300),
          counter(mine[0] as string, "/api/health/ready", 2),
          counter(mine[0] as string, "/metrics", 1),
          counter(mine[0] as string, "unmatched", 40),
          counter(mine[1] as string, "/j/:roomCode", 20),
          counter(mine[2] as string, "/api/polls/:roomCode/votes", 50),
          counter(canary, "/api/polls/:roomCode/results", 999),
          counter(mine[1] as string, "/j/:roomCode", 20, "zephyr-podmonitor"),
          counter(mine[1] as string, "/j/:roomCode", 999, "zephyr", "staging"),
        ];
        const adapterSum = (name: string) => `sum(${expandMetricsQuery(adapterRule(name), "zephyr", mine)})`;
        const dir = scratchDir("keda-queries");
        writeFileSync(join(dir, "empty.rules.yml"), stringify({ groups: [] }));
        const total = (expr: string, value: number) => ({
          expr,
          eval_time: "5m",
          exp_samples: [{ labels: "{}", value }],
        });
        writeFileSync(
          join(dir, "keda.promtool.yml"),
          stringify({
            rule_files: ["empty.rules.yml"],
            evaluation_interval: "1m",
            tests: [
              {
                interval: "1m",
                input_series: input,
                promql_expr_test: [
                  total(connections as string, 200),
                  total(adapterSum("websocket_connections_current"), 200),
                  total(requests as string, 370),
                  total(adapterSum("http_requests_per_second"), 370),
                ],
              },
            ],
          }),
        );
        const out = await promisify(execFile)(promtool as string, ["test", "rules", "keda.promtool.yml"], {
          cwd: dir,
          encoding: "utf8",
        }).catch((e: { stdout?: string; stderr?: string }) => ({
          stdout: `${e.stdout ?? ""}${e.stderr ?? ""}`,
        }));
        expect(out.stdout).toContain("SUCCESS");
      },
    );
  });

  describe.skipIf(!crds)(`KEDA's CRD schema (${CRD_DIR}/${SO_CRD})`, () => {
    let validator: CrdValidator;
    beforeAll(() => {
      validator = crdValidator(join(CRD_DIR, SO_CRD));
    });

    it("the rendered ScaledObject validates strictly: ci values, other settings, with credentials", async () => {
      const withAuth = await render(
        [kedaValues],
        [
          "autoscaling.keda.authenticationRef.name=prometheus-credentials",
          "autoscaling.keda.authModes=bearer",
        ],
      );
      const minimalKeda = await render([ciValues.minimal as string], ["autoscaling.engine=keda", SERVER]);
      expect(validator.kind).toBe("ScaledObject");
      for (const r of [keda, custom, withAuth, minimalKeda])
        expect(validator.validate(scaledObject(r))).toEqual([]);
    });

    // Each mutation is one mistake a template edit could make; the validator must name it.
    it("the validation can fail: unknown fields, unquoted numbers, a wrong kind, min above max", () => {
      const mutate = (f: (c: any) => void) => {
        const c = structuredClone(scaledObject(keda));
        f(c);
        return validator.validate(c).join("\n");
      };
      const cases: Array<[string, string, RegExp]> = [
        [
          "typo in a trigger",
          mutate((c) => (c.spec.triggers[1].metricTyp = "AverageValue")),
          /\/spec\/triggers\/1: must NOT have additional properties \(metricTyp\)/,
        ],
        [
          "behavior at the HPA's place instead of under advanced",
          mutate((c) => (c.spec.behavior = c.spec.advanced.horizontalPodAutoscalerConfig.behavior)),
          /\/spec: must NOT have additional properties \(behavior\)/,
        ],
        [
          "a threshold left unquoted",
          mutate((c) => (c.spec.triggers[1].metadata.threshold = 5000)),
          /\/spec\/triggers\/1\/metadata\/threshold: must be string/,
        ],
        [
          "an authenticationRef to a Secret",
          mutate((c) => (c.spec.triggers[1].authenticationRef = { name: "creds", kind: "Secret" })),
          /authenticationRef\/kind: must be equal to one of the allowed values/,
        ],
        [
          "minReplicaCount above maxReplicaCount (the CRD's CEL rule)",
          mutate((c) => (c.spec.minReplicaCount = c.spec.maxReplicaCount + 1)),
          /\/spec: minReplicaCount must be less than or equal to maxReplicaCount/,
        ],
      ];
      for (const [name, errors, expected] of cases) expect(errors, name).toMatch(expected);
    });
  });
});
