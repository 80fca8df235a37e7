import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { helm, helmRun, type K8sObject, type Rendered, render, templateArgs } from "../../test/helm.js";
import { CHART } from "../../test/paths.js";
import { appDefaultPort, ciValues, decodeSecret } from "./support.js";

// Rendered once per values file: helm template is the slow part, every assertion reads the same output.
const sets: Record<string, Rendered> = {};
const secretValues = new Set<string>();
let port: number;

beforeAll(async () => {
  if (!helm) return;
  port = await appDefaultPort();
  await Promise.all(
    Object.entries(ciValues).map(async ([name, file]) => (sets[name] = await render([file]))),
  );
  // Every secret the ci files feed in: none of them may leak into a ConfigMap or a literal env value.
  for (const file of Object.values(ciValues)) {
    const v = parse(readFileSync(file, "utf8")) ?? {};
    for (const s of Object.values(v.secrets ?? {})) if (s) secretValues.add(String(s));
    if (v.dev?.postgresql?.enabled) secretValues.add("zephyr-dev");
  }
});

const podSpecs = (r: Rendered): Array<{ owner: string; spec: K8sObject }> => [
  ...r.all("Deployment").map((d) => ({ owner: `Deployment/${d.metadata.name}`, spec: d.spec.template.spec })),
  ...r.all("Job").map((j) => ({ owner: `Job/${j.metadata.name}`, spec: j.spec.template.spec })),
  ...r.all("Pod").map((p) => ({ owner: `Pod/${p.metadata.name}`, spec: p.spec })),
];

const server = (r: Rendered) => r.get("Deployment", "zephyr");
const container = (r: Rendered) => server(r).spec.template.spec.containers[0];

describe.skipIf(!helm)("chart renders what the service and the cluster need", () => {
  it("Service: ClusterIP without session affinity (an audience behind one NAT spreads), named http and metrics ports", () => {
    for (const [name, r] of Object.entries(sets)) {
      const svc = r.get("Service", "zephyr");
      expect(svc.spec.type, name).toBe("ClusterIP");
      expect(svc.spec.sessionAffinity, name).toBe("None");
      expect(svc.spec.sessionAffinityConfig, name).toBeUndefined();
      expect(svc.spec.ports.map((p: { name: string }) => p.name).sort(), name).toEqual(["http", "metrics"]);
      expect(svc.spec.selector["app.kubernetes.io/component"]).toBe("server");
    }
  });

  it("Service: ClientIP affinity, when chosen, comes with its timeout and without rebalancing", async () => {
    const r = await render(
      [ciValues.minimal as string],
      ["service.sessionAffinity=ClientIP", "service.sessionAffinityTimeoutSeconds=600"],
    );
    const svc = r.get("Service", "zephyr");
    expect(svc.spec.sessionAffinity).toBe("ClientIP");
    expect(svc.spec.sessionAffinityConfig.clientIP.timeoutSeconds).toBe(600);
    // A shed client would come straight back to its pod: rebalancing is turned off with it.
    expect(r.get("ConfigMap", "zephyr").data.REBALANCE_ENABLED).toBe("false");
    for (const [name, set] of Object.entries(sets))
      expect(set.get("ConfigMap", "zephyr").data.REBALANCE_ENABLED, name).toBeUndefined();
  });

  it("REDIS_CLUSTER_NODES and REDIS_TLS from redis.clusterNodes; no single-Redis settings beside them", () => {
    const env = sets["redis-cluster"]?.get("ConfigMap", "zephyr").data as Record<string, string>;
    expect(env.REDIS_CLUSTER_NODES).toBe(
      "redis-cluster-0.redis-cluster-headless.data.svc:6379,redis-cluster-1.redis-cluster-headless.data.svc:6379,redis-cluster-2.redis-cluster-headless.data.svc:6379",
    );
    expect(env.REDIS_TLS).toBe("true");
    expect(env.REDIS_HOST).toBeUndefined();
    for (const [name, r] of Object.entries(sets))
      if (name !== "redis-cluster")
        expect(r.get("ConfigMap", "zephyr").data.REDIS_CLUSTER_NODES, name).toBeUndefined();
  });

  it("probes use the app's real endpoints on the named port, which is the app's default PORT", () => {
    expect(port).toBeGreaterThan(0);
    const c = container(sets.minimal as Rendered);
    const http = c.ports.find((p: { name: string }) => p.name === "http");
    expect(http.containerPort).toBe(port);
    const cm = (sets.minimal as Rendered).get("ConfigMap", "zephyr");
    expect(Number(cm.data.PORT)).toBe(port);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/api/health/ready", port: "http" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/api/health/live", port: "http" });
    expect(c.startupProbe.httpGet).toEqual({ path: "/api/health/live", port: "http" });
  });

  it("HPA: autoscaling/v2, 2..10 replicas, CPU 70 %, websocket_connections_current 5000 and http_requests_per_second 500 per pod, fast up / slow down", () => {
    const hpa = (sets.minimal as Rendered).get("HorizontalPodAutoscaler");
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "zephyr" });
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(10);
    expect(hpa.spec.metrics).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
      {
        type: "Pods",
        pods: {
          metric: { name: "websocket_connections_current" },
          target: { type: "AverageValue", averageValue: "5000" },
        },
      },
      {
        type: "Pods",
        pods: {
          metric: { name: "http_requests_per_second" },
          target: { type: "AverageValue", averageValue: "500" },
        },
      },
    ]);
    const { scaleUp, scaleDown } = hpa.spec.behavior;
    expect(scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    expect(scaleDown.policies).toEqual([{ type: "Pods", value: 1, periodSeconds: 120 }]);
    expect(Math.max(...scaleUp.policies.map((p: { value: number }) => p.value))).toBeGreaterThanOrEqual(4);
    // The HPA's CPU target is a fraction of the request: without one it cannot compute utilization.
    expect(container(sets.minimal as Rendered).resources.requests.cpu).toBeTruthy();
    expect(server(sets.minimal as Rendered).spec.replicas).toBeUndefined();
  });

  it("hpa-off: no HPA, a fixed replica count", () => {
    const r = sets["hpa-off"] as Rendered;
    expect(r.all("HorizontalPodAutoscaler")).toEqual([]);
    expect(server(r).spec.replicas).toBe(3);
  });

  it("PDB present and selecting exactly the server pods", () => {
    const pdb = (sets.minimal as Rendered).get("PodDisruptionBudget");
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(server(sets.minimal as Rendered).spec.selector.matchLabels);
  });

  it("restricted security context on every pod the chart creates from the app image", () => {
    for (const [name, r] of Object.entries(sets)) {
      for (const { owner, spec } of podSpecs(r)) {
        const where = `${name} ${owner}`;
        expect(spec.automountServiceAccountToken, where).toBe(false);
        expect(spec.securityContext.runAsNonRoot, where).toBe(true);
        expect(spec.securityContext.seccompProfile, where).toEqual({ type: "RuntimeDefault" });
        for (const c of spec.containers) {
          expect(c.securityContext.allowPrivilegeEscalation, where).toBe(false);
          expect(c.securityContext.readOnlyRootFilesystem, where).toBe(true);
          expect(c.securityContext.capabilities.drop, where).toEqual(["ALL"]);
        }
      }
    }
    const s = server(sets.minimal as Rendered).spec.template.spec;
    expect(s.securityContext.runAsUser).toBeGreaterThan(0);
    expect(s.volumes).toContainEqual({ name: "tmp", emptyDir: { sizeLimit: "64Mi" } });
    expect(s.containers[0].volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
  });

  it("Deployment: zero-downtime rollout, spread across nodes and zones, config checksums", () => {
    const d = server(sets.minimal as Rendered);
    expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const keys = d.spec.template.spec.topologySpreadConstraints.map(
      (t: { topologyKey: string }) => t.topologyKey,
    );
    expect(keys).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    expect(d.spec.template.metadata.annotations["checksum/config"]).toMatch(/^[a-f0-9]{64}$/);
    expect(d.spec.template.metadata.annotations["checksum/secret"]).toMatch(/^[a-f0-9]{64}$/);
    expect(d.spec.template.metadata.annotations["checksum/secret"]).not.toBe(
      server(sets.gateway as Rendered).spec.template.metadata.annotations["checksum/secret"],
    );
  });

  it("grace period covers the preStop sleep plus the app's hard shutdown limit, which covers delay + drain", () => {
    const d = server(sets.minimal as Rendered);
    const cm = (sets.minimal as Rendered).get("ConfigMap", "zephyr").data;
    const preStop = Number(d.spec.template.spec.containers[0].lifecycle.preStop.exec.command[1]);
    expect(preStop).toBeGreaterThan(0);
    expect(Number(cm.SHUTDOWN_TIMEOUT_MS)).toBeGreaterThan(
      Number(cm.SHUTDOWN_DELAY_MS) + Number(cm.DRAIN_WINDOW_MS),
    );
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      preStop + Math.ceil(Number(cm.SHUTDOWN_TIMEOUT_MS) / 1000),
    );
  });

  it("the app accepts the configuration every values file renders: known variables only, valid values", async () => {
    const { configFields, loadConfig } = await import("../../app/src/config/index.js");
    const known = new Set(Object.keys(configFields.shape));
    for (const [name, r] of Object.entries(sets)) {
      const env: Record<string, string> = { ...r.get("ConfigMap", "zephyr").data };
      const secret = r.all("Secret").find((s) => s.metadata.name === "zephyr");
      if (secret) Object.assign(env, decodeSecret(secret));
      else env.DATABASE_URL = "postgres://from-existing-secret@db/zephyr";
      const envNames = (container(r).env ?? []).map((e: { name: string }) => e.name);
      expect(
        envNames.filter((n: string) => !known.has(n)),
        `${name}: env entries unknown to the app`,
      ).toEqual([]);
      expect(
        Object.keys(env).filter((k) => !known.has(k)),
        `${name}: variables the app does not know`,
      ).toEqual([]);
      const cfg = loadConfig(env);
      expect(cfg.database.url || cfg.database.host, name).toBeTruthy();
      expect(cfg.http.port, name).toBe(container(r).ports[0].containerPort);
    }
  });

  it("no secret value in any ConfigMap, annotation or literal env value; secrets reach pods only via secretKeyRef", () => {
    expect(secretValues.size).toBeGreaterThan(3);
    for (const [name, r] of Object.entries(sets)) {
      for (const cm of r.all("ConfigMap")) {
        const text = JSON.stringify(cm);
        for (const s of secretValues)
          expect(text.includes(s), `${name} ConfigMap ${cm.metadata.name} leaks a secret`).toBe(false);
      }
      for (const { owner, spec } of podSpecs(r)) {
        for (const c of spec.containers) {
          for (const e of c.env ?? []) {
            if (e.value !== undefined) {
              for (const s of secretValues)
                expect(String(e.value).includes(s), `${name} ${owner} env ${e.name}`).toBe(false);
              expect(
                ["DATABASE_URL", "DB_PASSWORD", "REDIS_URL", "REDIS_PASSWORD", "POSTGRES_PASSWORD"],
                `${name} ${owner}`,
              ).not.toContain(e.name);
            }
          }
        }
      }
      const kinds = r.objects.filter((o) => o.kind !== "Secret").map((o) => JSON.stringify(o));
      for (const s of secretValues)
        expect(
          kinds.some((t) => t.includes(s)),
          `${name}: secret outside a Secret`,
        ).toBe(false);
    }
    // …and they are in the Secret, so the pods do get them.
    const secret = decodeSecret((sets.minimal as Rendered).get("Secret", "zephyr"));
    expect(Object.keys(secret).sort()).toEqual(["DATABASE_URL", "REDIS_URL"]);
  });

  it("existing-secret: no chart Secret; pods read the named Secret's keys, DATABASE_URL required", () => {
    const r = sets["existing-secret"] as Rendered;
    expect(r.all("Secret")).toEqual([]);
    const env = container(r).env;
    expect(env.find((e: { name: string }) => e.name === "DATABASE_URL").valueFrom.secretKeyRef).toEqual({
      name: "zephyr-credentials",
      key: "database-url",
      optional: false,
    });
    expect(env.find((e: { name: string }) => e.name === "REDIS_URL").valueFrom.secretKeyRef.optional).toBe(
      true,
    );
    expect(env.some((e: { name: string }) => e.name === "DB_PASSWORD")).toBe(false);
    const job = r.get("Job");
    expect(
      job.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === "DATABASE_URL")
        .valueFrom.secretKeyRef.name,
    ).toBe("zephyr-credentials");
  });

  it("migrations: a pre-install/pre-upgrade Job with its own hook Secret created first; pods do not migrate", () => {
    const r = sets.minimal as Rendered;
    const job = r.get("Job", "zephyr-migrate");
    expect(job.metadata.annotations["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
    expect(job.spec.template.spec.containers[0].args).toEqual(["app/dist/main.js", "migrate"]);
    expect(job.spec.template.spec.serviceAccountName).toBeUndefined();
    expect(job.spec.template.spec.containers[0].envFrom).toBeUndefined();
    const hookSecret = r.get("Secret", "zephyr-migrate");
    expect(hookSecret.metadata.annotations["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
    expect(Number(hookSecret.metadata.annotations["helm.sh/hook-weight"])).toBeLessThan(
      Number(job.metadata.annotations["helm.sh/hook-weight"]),
    );
    expect(decodeSecret(hookSecret)).toEqual(decodeSecret(r.get("Secret", "zephyr")));
    expect(r.get("ConfigMap", "zephyr").data.MIGRATE_ON_START).toBe("false");
    const dev = sets["dev-bundled"] as Rendered;
    expect(dev.all("Job")).toEqual([]);
    expect(dev.get("ConfigMap", "zephyr").data.MIGRATE_ON_START).toBe("true");
  });

  it("standard labels on every object; helm test pod checks /api/health/ready", () => {
    for (const [name, r] of Object.entries(sets)) {
      for (const o of r.objects) {
        const l = o.metadata.labels ?? {};
        for (const k of [
          "app.kubernetes.io/name",
          "app.kubernetes.io/instance",
          "app.kubernetes.io/managed-by",
          "helm.sh/chart",
        ]) {
          expect(l[k], `${name} ${o.kind}/${o.metadata.name} ${k}`).toBeTruthy();
        }
      }
    }
    const test = (sets.minimal as Rendered)
      .all("Pod")
      .find((p) => p.metadata.annotations?.["helm.sh/hook"] === "test");
    expect(test).toBeDefined();
    expect(test!.spec.containers[0].args.join(" ")).toContain("/api/health/ready");
  });

  it("NetworkPolicy: ingress only to the app port; egress only to DNS, PostgreSQL and Redis", () => {
    const np = (sets.minimal as Rendered).get("NetworkPolicy");
    expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.spec.ingress).toEqual([{ ports: [{ port: "http", protocol: "TCP" }] }]);
    const egressPorts = np.spec.egress.flatMap((e: { ports: Array<{ port: number }> }) =>
      e.ports.map((p) => p.port),
    );
    expect(egressPorts.sort()).toEqual([53, 53, 5432, 6379].sort());
    const ing = (sets.ingress as Rendered).get("NetworkPolicy");
    expect(ing.spec.ingress[0].from[0]).toEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
    });
    expect(ing.spec.ingress[1].ports).toEqual([{ port: "metrics", protocol: "TCP" }]);
  });

  it("ingress: ingress-nginx cookie affinity and WebSocket timeouts above Socket.IO's ping interval + timeout", () => {
    const ing = (sets.ingress as Rendered).get("Ingress");
    const a = ing.metadata.annotations as Record<string, string>;
    expect(a["nginx.ingress.kubernetes.io/affinity"]).toBe("cookie");
    const cm = (sets.ingress as Rendered).get("ConfigMap", "zephyr").data;
    const heartbeatS = (Number(cm.SOCKET_PING_INTERVAL_MS) + Number(cm.SOCKET_PING_TIMEOUT_MS)) / 1000;
    expect(heartbeatS).toBeGreaterThan(0);
    for (const k of ["proxy-read-timeout", "proxy-send-timeout"]) {
      expect(Number(a[`nginx.ingress.kubernetes.io/${k}`])).toBeGreaterThan(heartbeatS);
    }
    expect(ing.spec.rules[0].http.paths[0].backend.service).toEqual({
      name: "zephyr",
      port: { name: "http" },
    });
  });

  it("ingress alb preset: stickiness and idle timeout annotations", async () => {
    const r = await render([ciValues.ingress as string], ["ingress.preset=alb", "ingress.className=alb"]);
    const a = r.get("Ingress").metadata.annotations as Record<string, string>;
    expect(a["alb.ingress.kubernetes.io/target-group-attributes"]).toContain("stickiness.enabled=true");
    expect(a["alb.ingress.kubernetes.io/load-balancer-attributes"]).toBe("idle_timeout.timeout_seconds=3600");
    expect(Object.keys(a).some((k) => k.startsWith("nginx."))).toBe(false);
  });

  it("gateway: HTTPRoute to the Service's http port", () => {
    const route = (sets.gateway as Rendered).get("HTTPRoute");
    expect(route.apiVersion).toBe("gateway.networking.k8s.io/v1");
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: "zephyr", port: 80 }]);
    expect(route.spec.rules[0].timeouts).toEqual({ request: "1h" });
  });

  it("dev-bundled: single-replica PostgreSQL and Redis wired through DB_HOST/REDIS_HOST; off by default", () => {
    const r = sets["dev-bundled"] as Rendered;
    expect(r.get("Deployment", "zephyr-postgresql").spec.replicas).toBe(1);
    expect(r.get("Deployment", "zephyr-redis").spec.replicas).toBe(1);
    const cm = r.get("ConfigMap", "zephyr").data;
    expect(cm.DB_HOST).toBe("zephyr-postgresql");
    expect(cm.REDIS_HOST).toBe("zephyr-redis");
    expect(cm.DB_SSL).toBe("false");
    expect(r.get("Service", "zephyr-postgresql").spec.ports[0].port).toBe(5432);
    expect((sets.minimal as Rendered).all("Deployment").map((d) => d.metadata.name)).toEqual(["zephyr"]);
  });
});

describe.skipIf(!helm)("NOTES.txt", () => {
  // helm renders NOTES only on install/upgrade, which need a cluster; a throwaway copy of the chart exposes it
  // through a template that includes it, so every values file's NOTES are rendered by helm itself.
  const notes: Record<string, string> = {};
  beforeAll(async () => {
    const copy = mkdtempSync(join(tmpdir(), "zephyr-notes-"));
    try {
      cpSync(CHART, join(copy, "zephyr"), {
        recursive: true,
        filter: (src) => !src.includes(`${CHART}/test`),
      });
      writeFileSync(
        join(copy, "zephyr/templates/zz-notes.yaml"),
        'notes: |\n{{ include (print $.Template.BasePath "/NOTES.txt") . | indent 2 }}\n',
      );
      await Promise.all(
        Object.entries(ciValues).map(async ([name, file]) => {
          const args = templateArgs([file]).map((a) => (a === CHART ? join(copy, "zephyr") : a));
          const r = await helmRun([...args, "--show-only", "templates/zz-notes.yaml"]);
          if (r.code !== 0) throw new Error(`${name}: ${r.stderr}`);
          notes[name] = (parse(r.stdout) as { notes: string }).notes;
        }),
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("renders for every values file and says how to verify with helm test", () => {
    expect(Object.keys(notes).sort()).toEqual(Object.keys(ciValues).sort());
    for (const [name, text] of Object.entries(notes))
      expect(text, name).toContain("helm test zephyr -n zephyr --logs");
    expect(notes.minimal).toContain("kubectl -n zephyr logs job/zephyr-migrate");
    expect(notes["dev-bundled"]).toContain("WARNING: dev-only bundled PostgreSQL Redis");
    expect(notes.gateway).toContain("HTTPRoute zephyr attaches to: public");
    // Each engine's own way to see whether its metrics arrive; KEDA needs no custom-metrics API.
    expect(notes.minimal).toContain("/apis/custom.metrics.k8s.io/v1beta1/namespaces/zephyr/pods/*/");
    expect(notes.keda).toContain("kubectl -n zephyr get scaledobject zephyr");
    expect(notes.keda).toContain("keda-hpa-zephyr");
    expect(notes.keda).not.toContain("custom.metrics.k8s.io");
  });
});
