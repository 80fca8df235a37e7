/**
 * helm install/upgrade/rollback/test/uninstall of chart/ against a real kube-apiserver 1.37 with the real
 * controllers and kwok's fake nodes (see cluster.ts): what schemas and `helm template` cannot see — defaulting and
 * pruning by the server, immutable fields, hook Jobs that must complete, rollouts of new ReplicaSets, CRDs.
 * One control plane for the file; each test has its own namespace.
 *
 * CONTROLPLANE_CHART=/path/to/a/chart runs the same tests against another copy of the chart (used to show that the
 * suite catches a defect introduced on purpose).
 *
 * The release path is here too, because it ends in a `helm install` on this control plane: the image built from
 * app/Dockerfile and pushed with podman, the chart packaged by the release workflow's script and pushed with
 * `helm push`, both to a real registry on loopback, and the release installed from oci://.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { requireCrdDir } from "../../../test/crd.js";
import { buildImage, checkoutImage, podmanOk, requirePodman } from "../../../test/oci.js";
import { REPO_ROOT } from "../../../test/paths.js";
import { requireRegistry, startRegistry } from "../../../test/registry.js";
import { scratchDir } from "../../../test/scratch.js";
import { type ControlPlane, installCrds, startControlPlane } from "./cluster.js";
import type { KObject, WatchEvent } from "./kube-api.js";
import { tools, toolsPresent } from "./requirements.js";
import { waitFor } from "./wait.js";

const CHART = resolve(process.env.CONTROLPLANE_CHART ?? join(REPO_ROOT, "chart"));
const values = (name: string) => join(CHART, "ci", `${name}-values.yaml`);
/** The kube-apiserver version .ci/setup.d/50-controlplane.sh pins. */
const KUBE_VERSION = "v1.37.2";
const INSTANCE = "app.kubernetes.io/instance";
// Several helm --wait round trips per test on a 2-core machine shared with other suites.
const TEST_TIMEOUT = 300_000;
// The release path also builds the image: about 100 s from a cold layer cache, seconds from a warm one.
const RELEASE_TIMEOUT = 900_000;
// Asked for here, not in requirements.ts: only the release-path test needs an OCI engine and a registry.
const oci = requirePodman();
const registryBin = requireRegistry();
// Installed by the KEDA test only, as `helm install keda kedacore/keda` would: the other releases never see them.
const KEDA_CRDS = ["keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml"];
const kedaCrds = requireCrdDir(KEDA_CRDS);

let cp: ControlPlane;

interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

function helm(args: string[], timeoutMs = 240_000): Promise<HelmResult> {
  return new Promise((done) => {
    execFile(
      tools.helm as string,
      args,
      { env: cp.env, cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** helm that must succeed; on failure the message carries helm's stderr and the control plane's log tails. */
async function helmOk(args: string[]): Promise<HelmResult> {
  const r = await helm(args);
  if (r.code !== 0) {
    throw new Error(`helm ${args.join(" ")} exited ${r.code}\n${r.stderr}\n${r.stdout}\n${cp.logTail(10)}`);
  }
  return r;
}

const install = (release: string, ns: string, extra: string[]) =>
  helmOk(["install", release, CHART, "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", ...extra]);
const upgrade = (release: string, ns: string, extra: string[]) =>
  helmOk(["upgrade", release, CHART, "-n", ns, "--wait", "--timeout", "3m", ...extra]);

const docs = (text: string): KObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as KObject | null)
    .filter((o): o is KObject => !!o?.kind);

const manifest = async (release: string, ns: string, revision?: number) =>
  docs(
    (await helmOk(["get", "manifest", release, "-n", ns, ...(revision ? ["--revision", `${revision}`] : [])]))
      .stdout,
  );
const hooks = async (release: string, ns: string) =>
  docs((await helmOk(["get", "hooks", release, "-n", ns])).stdout);

const QUANTITY = /^([+-]?\d+(?:\.\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SCALE: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const quantity = (s: string) => {
  const m = QUANTITY.exec(s);
  return m ? Number(m[1]) * (SCALE[m[2] ?? ""] ?? Number.NaN) : undefined;
};

/**
 * Fields of the rendered object that the server did not store as rendered: pruned by a CRD schema, dropped as
 * unknown, or changed by a mutating default. Quantities compare by value (the server canonicalises "5000" to
 * "5k"); null in the rendered object means "absent" (YAML's way to leave a field out).
 */
function notStoredAsRendered(rendered: unknown, stored: unknown, path = ""): string[] {
  if (rendered === null || rendered === undefined) return [];
  // The API's omitempty: an empty string, list or map is stored as absent (an env var without value is "").
  const empty =
    rendered === "" ||
    (Array.isArray(rendered)
      ? rendered.length === 0
      : typeof rendered === "object" && !Object.keys(rendered).length);
  if (empty && (stored === undefined || stored === null)) return [];
  if (Array.isArray(rendered)) {
    if (!Array.isArray(stored) || stored.length !== rendered.length) {
      return [`${path}: rendered ${JSON.stringify(rendered)}, stored ${JSON.stringify(stored)}`];
    }
    return rendered.flatMap((r, i) => notStoredAsRendered(r, stored[i], `${path}[${i}]`));
  }
  if (typeof rendered === "object") {
    if (!stored || typeof stored !== "object")
      return [`${path}: rendered an object, stored ${JSON.stringify(stored)}`];
    return Object.entries(rendered).flatMap(([k, v]) =>
      notStoredAsRendered(v, (stored as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  if (rendered === stored) return [];
  if (typeof rendered === "string" && typeof stored === "string") {
    const a = quantity(rendered);
    if (a !== undefined && a === quantity(stored)) return [];
  }
  if (typeof rendered === "number" && typeof stored === "string" && quantity(stored) === rendered) return [];
  return [`${path}: rendered ${JSON.stringify(rendered)}, stored ${JSON.stringify(stored)}`];
}

/** Every rendered object exists on the server with every rendered field intact. */
async function expectStoredAsRendered(objects: KObject[], ns: string) {
  const problems: string[] = [];
  for (const o of objects) {
    const stored = await cp.api.getObject(o, ns);
    const id = `${o.kind}/${o.metadata.name}`;
    if (!stored) problems.push(`${id}: not found`);
    else problems.push(...notStoredAsRendered(o, stored).map((p) => `${id}${p}`));
  }
  expect(problems).toEqual([]);
}

const find = (objects: KObject[], kind: string, name?: string) => {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o)
    throw new Error(`${kind} ${name ?? ""} not rendered (kinds: ${objects.map((x) => x.kind).join(", ")})`);
  return o;
};

const isReady = (p: KObject) =>
  !p.metadata.deletionTimestamp &&
  p.status?.phase === "Running" &&
  (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

const serverPods = (ns: string, release: string) =>
  cp.api.list("v1", "Pod", ns, { [INSTANCE]: release, "app.kubernetes.io/component": "server" });

async function deploymentSettled(ns: string, name: string, replicas: number) {
  return waitFor(`${ns}/${name} settled at ${replicas} ready replicas`, async () => {
    const d = await cp.api.get("apps/v1", "Deployment", ns, name);
    const s = d.status ?? {};
    return (
      d.spec.replicas === replicas &&
      s.observedGeneration === d.metadata.generation &&
      s.updatedReplicas === replicas &&
      s.readyReplicas === replicas &&
      s.availableReplicas === replicas &&
      (s.replicas ?? 0) === replicas &&
      d
    );
  });
}

async function expectJobComplete(ns: string, name: string, image: string) {
  const job = await cp.api.get("batch/v1", "Job", ns, name);
  expect(job.status?.succeeded).toBe(1);
  expect(job.status?.conditions?.find((c: any) => c.type === "Complete")?.status).toBe("True");
  expect(job.spec.template.spec.containers[0].image).toBe(image);
  return job;
}

/** helm test: the test pod runs to Succeeded (kwok completes it) and its hook-succeeded policy removes it. */
async function expectHelmTestPasses(release: string, ns: string) {
  const testPod = find(await hooks(release, ns), "Pod");
  const r = await helmOk(["test", release, "-n", ns, "--timeout", "2m"]);
  expect(r.stdout).toContain(testPod.metadata.name);
  expect(r.stdout).toMatch(/Phase:\s+Succeeded/);
  await waitFor(
    `test pod ${testPod.metadata.name} deleted`,
    async () => !(await cp.api.getObject(testPod, ns)),
  );
}

describe.skipIf(!toolsPresent)("chart on a real control plane (kube-apiserver + controllers + kwok)", () => {
  beforeAll(async () => {
    cp = await startControlPlane();
  }, 240_000);
  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  it(
    "serves the pinned Kubernetes version, so helm's kubeVersion check sees a real cluster",
    async () => {
      const v = await cp.api.version();
      expect(v.gitVersion).toBe(KUBE_VERSION);
      const nodes = await cp.api.list("v1", "Node");
      expect(new Set(nodes.map((n) => n.metadata.labels["topology.kubernetes.io/zone"])).size).toBe(3);
    },
    TEST_TIMEOUT,
  );

  it(
    "installs with the minimal values in the default namespace: objects stored as rendered, hook Job, rollout, HPA, helm test",
    async () => {
      const ns = "default";
      const r = await install("zephyr", ns, ["-f", values("minimal")]);
      // Unknown or dropped fields come back as warnings from the server; helm only prints them.
      expect(r.stderr).not.toMatch(/unknown field|duplicate field/i);

      const objects = await manifest("zephyr", ns);
      expect(objects.map((o) => o.kind).sort()).toEqual(
        [
          "ConfigMap",
          "Deployment",
          "HorizontalPodAutoscaler",
          "NetworkPolicy",
          "PodDisruptionBudget",
          "Secret",
          "Service",
          "ServiceAccount",
        ].sort(),
      );
      await expectStoredAsRendered(objects, ns);

      const svc = await cp.api.get("v1", "Service", ns, "zephyr");
      expect(svc.spec.sessionAffinity).toBe("None");
      expect(svc.spec.sessionAffinityConfig).toBeUndefined();

      const hpa = await cp.api.get("autoscaling/v2", "HorizontalPodAutoscaler", ns, "zephyr");
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "zephyr" });
      expect(hpa.spec.metrics.map((m: any) => m.type)).toEqual(["Resource", "Pods", "Pods"]);
      expect(hpa.spec.metrics[1].pods.metric.name).toBe("websocket_connections_current");
      expect(hpa.spec.metrics[2].pods.metric.name).toBe("http_requests_per_second");
      const pdb = await cp.api.get("policy/v1", "PodDisruptionBudget", ns, "zephyr");
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");

      // The Deployment leaves replicas to the HPA; the real HPA controller raises it to minReplicas even without a
      // metrics API, and the disruption controller then counts the pods the PDB guards.
      const deploy = await deploymentSettled(ns, "zephyr", 2);
      expect(deploy.spec.strategy.rollingUpdate).toEqual({ maxSurge: "25%", maxUnavailable: 0 });
      const pods = await serverPods(ns, "zephyr");
      expect(pods.filter(isReady)).toHaveLength(2);
      expect(pods.every((p) => cp.nodes.some((n) => n.name === p.spec.nodeName))).toBe(true);
      await waitFor("PDB status", async () => {
        const p = await cp.api.get("policy/v1", "PodDisruptionBudget", ns, "zephyr");
        return p.status?.currentHealthy === 2 && p.status?.disruptionsAllowed === 1;
      });

      const hookObjects = await hooks("zephyr", ns);
      await expectStoredAsRendered([find(hookObjects, "Job")], ns);
      await expectJobComplete(ns, "zephyr-migrate", "ghcr.io/zephyr/zephyr:0.1.0");
      // hook-succeeded: the Job's copy of the credentials is gone once the hooks have run.
      expect(await cp.api.getObject(find(hookObjects, "Secret", "zephyr-migrate"), ns)).toBeNull();

      await expectHelmTestPasses("zephyr", ns);
    },
    TEST_TIMEOUT,
  );

  it(
    "installs with the monitoring-on values: ServiceMonitor and PrometheusRule accepted by the real CRDs unpruned",
    async () => {
      const ns = "monitoring-on";
      const r = await install("mon", ns, ["-f", values("monitoring-on")]);
      expect(r.stderr).not.toMatch(/unknown field|duplicate field/i);
      const objects = await manifest("mon", ns);
      for (const kind of ["ServiceMonitor", "PrometheusRule"]) find(objects, kind);
      expect(
        objects.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard).length,
      ).toBeGreaterThan(0);
      // A CRD's structural schema silently prunes fields it does not know: only a stored-vs-rendered diff shows it.
      await expectStoredAsRendered(objects, ns);

      const sm = await cp.api.get("monitoring.coreos.com/v1", "ServiceMonitor", ns, "mon-zephyr");
      expect(sm.spec.endpoints[0]).toMatchObject({ port: "metrics", interval: "15s", scrapeTimeout: "10s" });
      expect(sm.metadata.labels.release).toBe("kube-prometheus-stack");
      const svc = await cp.api.get("v1", "Service", ns, "mon-zephyr");
      expect(svc.spec.ports.find((p: any) => p.name === "metrics")).toMatchObject({ targetPort: "metrics" });
      expect(svc.spec.sessionAffinity).toBe("None");
      const pr = await cp.api.get("monitoring.coreos.com/v1", "PrometheusRule", ns, "mon-zephyr");
      expect(pr.spec.groups.length).toBeGreaterThan(0);
      await deploymentSettled(ns, "mon-zephyr", 2);
      await expectJobComplete(ns, "mon-zephyr-migrate", "ghcr.io/zephyr/zephyr:0.1.0");
      await expectHelmTestPasses("mon", ns);
    },
    TEST_TIMEOUT,
  );

  // No KEDA operator, metrics server or admission webhook runs here: their images cannot be pulled (no registry, no
  // container runtime). What is checked is what the API server decides with KEDA's CRD installed: its structural
  // schema (pruning), its CEL rule, and that the chart leaves the Deployment's replicas and its HPA to KEDA.
  it.skipIf(!kedaCrds)(
    "installs with the keda values: the ScaledObject accepted by KEDA's real CRD unpruned, no HPA; min above max refused",
    async () => {
      await installCrds(cp.api, KEDA_CRDS);
      const ns = "keda";
      const rel = "scaled";
      const name = `${rel}-zephyr`;
      // Credentials by reference, as a cluster with an authenticated Prometheus would have them.
      const auth = [
        "--set",
        "autoscaling.keda.authenticationRef.name=prometheus-credentials",
        "--set",
        "autoscaling.keda.authModes=bearer",
      ];
      const r = await install(rel, ns, ["-f", values("keda"), ...auth]);
      expect(r.stderr).not.toMatch(/unknown field|duplicate field/i);
      const objects = await manifest(rel, ns);
      expect(objects.filter((o) => o.kind === "HorizontalPodAutoscaler")).toEqual([]);
      const rendered = find(objects, "ScaledObject", name);
      // A CRD's structural schema silently prunes fields it does not know: only a stored-vs-rendered diff shows it.
      await expectStoredAsRendered(objects, ns);

      const so = await cp.api.get("keda.sh/v1alpha1", "ScaledObject", ns, name);
      expect(so.spec).toEqual(rendered.spec);
      expect(so.spec.triggers.map((t: any) => t.type)).toEqual(["cpu", "prometheus", "prometheus"]);
      expect(so.spec.triggers[1].authenticationRef).toEqual({
        name: "prometheus-credentials",
        kind: "TriggerAuthentication",
      });
      expect(
        so.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds,
      ).toBe(600);
      // Nothing but KEDA may create an HPA for this Deployment, and KEDA does not run here.
      expect(await cp.api.list("autoscaling/v2", "HorizontalPodAutoscaler", ns)).toEqual([]);
      // The chart sets no replicas: the API's default of one stands until KEDA's HPA raises it to minReplicaCount.
      const deploy = await deploymentSettled(ns, name, 1);
      expect(deploy.spec.replicas).toBe(1);
      await expectJobComplete(ns, `${name}-migrate`, "ghcr.io/zephyr/zephyr:0.1.0");

      // The server evaluates the CRD's CEL rule, so a min above max never reaches KEDA.
      const refused = await helm([
        "upgrade",
        rel,
        CHART,
        "-n",
        ns,
        "-f",
        values("keda"),
        ...auth,
        "--set",
        "autoscaling.minReplicas=11",
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("minReplicaCount must be less than or equal to maxReplicaCount");
      const kept = await cp.api.get("keda.sh/v1alpha1", "ScaledObject", ns, name);
      expect(kept.spec.minReplicaCount).toBe(2);
    },
    TEST_TIMEOUT,
  );

  it(
    "upgrades roll a new ReplicaSet without dropping below the desired ready pods; image tag upgrade; rollback",
    async () => {
      const ns = "rollout";
      const rel = "roll";
      const name = "roll-zephyr";
      // HPA off: a fixed replicaCount of 3 makes maxSurge 25% = 1 extra pod, so the rollout has to go one by one.
      // New pods turn Ready only after 2 s (kwok-stages.yaml), as real ones do: with instant readiness a rollout
      // that takes an old pod away before its replacement is Ready would finish before any watch saw the dip.
      const base = [
        "-f",
        values("hpa-off"),
        "--set",
        String.raw`podAnnotations.pod-ready\.stage\.kwok\.x-k8s\.io/delay=2s`,
      ];
      await install(rel, ns, base);
      await deploymentSettled(ns, name, 3);
      const firstPods = await serverPods(ns, rel);
      // Soft topology spread (ScheduleAnyway), scored by the real scheduler over three fake zones.
      expect(new Set(firstPods.map((p) => p.spec.nodeName)).size).toBe(3);
      const replicaSets = () => cp.api.list("apps/v1", "ReplicaSet", ns, { [INSTANCE]: rel });
      const [rs1] = await replicaSets();
      if (!rs1) throw new Error("no ReplicaSet after install");

      // Watch from the list's resourceVersion: every pod transition during the rollout, in the server's order.
      const podLabels = { [INSTANCE]: rel, "app.kubernetes.io/component": "server" };
      const list = await cp.api.listWithVersion("v1", "Pod", ns, podLabels);
      const pods = new Map(list.items.map((p) => [p.metadata.name, p]));
      const samples: { ready: number; total: number }[] = [];
      const w = cp.api.watch(
        "v1",
        "Pod",
        ns,
        { labels: podLabels, resourceVersion: list.resourceVersion },
        (e: WatchEvent) => {
          if (e.type === "DELETED") pods.delete(e.object.metadata.name);
          else if (e.type === "ADDED" || e.type === "MODIFIED") pods.set(e.object.metadata.name, e.object);
          else return;
          const all = [...pods.values()];
          // Terminating pods no longer count for the Deployment's surge budget (nor serve), so they count for neither.
          samples.push({
            ready: all.filter(isReady).length,
            total: all.filter((p) => !p.metadata.deletionTimestamp).length,
          });
        },
      );
      await w.ready;
      try {
        await upgrade(rel, ns, [...base, "--set", "config.logLevel=debug"]);
        await deploymentSettled(ns, name, 3);
        await waitFor("old pods gone", async () => (await serverPods(ns, rel)).length === 3);
      } finally {
        w.stop();
      }
      expect(samples.length).toBeGreaterThan(0);
      // The readiness delay took effect, so the window in which a dip would show was really there.
      for (const p of await serverPods(ns, rel)) {
        const ready = p.status.conditions.find((c: any) => c.type === "Ready");
        expect(
          Date.parse(ready.lastTransitionTime) - Date.parse(p.metadata.creationTimestamp),
        ).toBeGreaterThanOrEqual(1000);
      }
      // maxUnavailable 0: never fewer than 3 ready pods; maxSurge 25% of 3: exactly one surge pod on top.
      expect(Math.min(...samples.map((s) => s.ready))).toBe(3);
      expect(Math.max(...samples.map((s) => s.total))).toBe(4);

      const rsAfter = await replicaSets();
      expect(rsAfter).toHaveLength(2);
      const rs2 = rsAfter.find((r) => r.metadata.name !== rs1.metadata.name) as KObject;
      expect(rs2.status.readyReplicas).toBe(3);
      expect(rsAfter.find((r) => r.metadata.name === rs1.metadata.name)?.spec.replicas).toBe(0);
      const ann = (r: KObject) => r.spec.template.metadata.annotations;
      expect(ann(rs2)["checksum/config"]).not.toBe(ann(rs1)["checksum/config"]);
      expect(ann(rs2)["checksum/secret"]).toBe(ann(rs1)["checksum/secret"]);
      const cm = await cp.api.get("v1", "ConfigMap", ns, name);
      expect(cm.data.LOG_LEVEL).toBe("debug");
      // pre-upgrade hook: the migration ran again (before-hook-creation replaced the Job) and completed.
      await expectJobComplete(ns, `${name}-migrate`, "ghcr.io/zephyr/zephyr:0.1.0");

      await upgrade(rel, ns, [...base, "--set", "config.logLevel=debug", "--set", "image.tag=0.1.1"]);
      const d3 = await deploymentSettled(ns, name, 3);
      expect(d3.spec.template.spec.containers[0].image).toBe("ghcr.io/zephyr/zephyr:0.1.1");
      expect(d3.spec.template.metadata.labels["app.kubernetes.io/version"]).toBe("0.1.1");
      expect((await serverPods(ns, rel)).map((p) => p.spec.containers[0].image)).toEqual(
        Array(3).fill("ghcr.io/zephyr/zephyr:0.1.1"),
      );
      // The migration of the new version runs before any pod of it starts.
      await expectJobComplete(ns, `${name}-migrate`, "ghcr.io/zephyr/zephyr:0.1.1");

      await helmOk(["rollback", rel, "1", "-n", ns, "--wait", "--timeout", "3m"]);
      const d4 = await deploymentSettled(ns, name, 3);
      expect(d4.spec.template.spec.containers[0].image).toBe("ghcr.io/zephyr/zephyr:0.1.0");
      expect((await cp.api.get("v1", "ConfigMap", ns, name)).data.LOG_LEVEL).toBe("info");
      // Revision 1's pod template again, so the Deployment scales its original ReplicaSet back up.
      const rsRolledBack = await replicaSets();
      expect(rsRolledBack.find((r) => r.metadata.name === rs1.metadata.name)?.status.readyReplicas).toBe(3);
      await expectStoredAsRendered(await manifest(rel, ns, 1), ns);
      const history = JSON.parse((await helmOk(["history", rel, "-n", ns, "-o", "json"])).stdout) as {
        revision: number;
        status: string;
        description: string;
      }[];
      expect(history.at(-1)).toMatchObject({ revision: 4, status: "deployed", description: "Rollback to 1" });
    },
    TEST_TIMEOUT,
  );

  it(
    "ordinary value changes never touch immutable fields; a selector change is refused, so this test would catch one",
    async () => {
      const ns = "immutable";
      const rel = "imm";
      const name = "imm-zephyr";
      await install(rel, ns, ["-f", values("minimal")]);
      const get = async () => ({
        deploy: await cp.api.get("apps/v1", "Deployment", ns, name),
        svc: await cp.api.get("v1", "Service", ns, name),
        pdb: await cp.api.get("policy/v1", "PodDisruptionBudget", ns, name),
        job: await cp.api.get("batch/v1", "Job", ns, `${name}-migrate`),
      });
      const before = await get();
      // Values a user changes in day-to-day operation, all at once.
      const ordinary = [
        "config.logLevel=warn",
        "config.corsOrigins[0]=https://polls.example.com",
        "image.tag=0.2.0",
        "commonLabels.team=polls",
        "commonAnnotations.owner=platform",
        "podLabels.tier=web",
        "podAnnotations.note=x",
        "resources.requests.cpu=300m",
        "autoscaling.minReplicas=3",
        "autoscaling.maxReplicas=12",
        "service.port=8080",
        "service.sessionAffinity=ClientIP",
        "service.sessionAffinityTimeoutSeconds=600",
        "pdb.maxUnavailable=2",
        "config.metricsPort=9464",
        "migrations.backoffLimit=4",
        "secrets.redisUrl=rediss://:rotated@redis.example.internal:6379",
      ].flatMap((s) => ["--set", s]);
      await upgrade(rel, ns, ["-f", values("minimal"), ...ordinary]);
      const after = await get();
      expect(after.deploy.metadata.uid).toBe(before.deploy.metadata.uid);
      expect(after.deploy.spec.selector).toEqual(before.deploy.spec.selector);
      expect(after.svc.metadata.uid).toBe(before.svc.metadata.uid);
      expect(after.svc.spec.clusterIP).toBe(before.svc.spec.clusterIP);
      expect(after.svc.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 600 } });
      expect(after.svc.spec.selector).toEqual(before.svc.spec.selector);
      expect(after.pdb.spec.selector).toEqual(before.pdb.spec.selector);
      expect(after.deploy.spec.template.spec.containers[0].image).toBe("ghcr.io/zephyr/zephyr:0.2.0");
      // Job templates are immutable; before-hook-creation replaces the Job instead of patching it.
      expect(after.job.metadata.uid).not.toBe(before.job.metadata.uid);
      expect(after.job.spec.backoffLimit).toBe(4);
      await deploymentSettled(ns, name, 3);

      // The counter-test: the same release with a changed selector label must be refused by the server.
      const r = await helm([
        "upgrade",
        rel,
        CHART,
        "-n",
        ns,
        "--wait",
        "--timeout",
        "1m",
        "-f",
        values("minimal"),
        ...ordinary,
        "--set",
        "nameOverride=renamed",
        "--set",
        `fullnameOverride=${name}`,
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/spec\.selector[^\n]*field is immutable/);
      const kept = await cp.api.get("apps/v1", "Deployment", ns, name);
      expect(kept.spec.selector).toEqual(before.deploy.spec.selector);
    },
    TEST_TIMEOUT,
  );

  it(
    "uninstall leaves nothing of the release except the migration Job that its delete policy keeps",
    async () => {
      const ns = "uninstall";
      const rel = "gone";
      await install(rel, ns, ["-f", values("minimal")]);
      await expectHelmTestPasses(rel, ns);
      await helmOk(["uninstall", rel, "-n", ns, "--wait", "--timeout", "2m"]);
      const types = await cp.api.namespacedListables();
      const leftovers = async () => {
        const found: string[] = [];
        for (const t of types) {
          for (const o of await cp.api.list(t.apiVersion, t.kind, ns, { [INSTANCE]: rel })) {
            found.push(
              `${t.kind}/${o.metadata.name}${t.kind === "Pod" ? `:${o.metadata.labels["app.kubernetes.io/component"]}` : ""}`,
            );
          }
        }
        // helm's own release records are Secrets labelled name=<release>, owner=helm.
        for (const s of await cp.api.list("v1", "Secret", ns, { owner: "helm", name: rel })) {
          found.push(`helm-release/${s.metadata.name}`);
        }
        return found
          .map((f) => f.replace(/^Pod\/gone-zephyr-migrate-[a-z0-9]+:/, "Pod/gone-zephyr-migrate-*:"))
          .sort();
      };
      // Garbage collection of ReplicaSets, pods and EndpointSlices runs after helm returns.
      const expected = ["Job/gone-zephyr-migrate", "Pod/gone-zephyr-migrate-*:migrate"];
      let last: string[] = [];
      await waitFor(
        `only ${expected.join(", ")} left`,
        async () => {
          last = await leftovers();
          return JSON.stringify(last) === JSON.stringify(expected);
        },
        60_000,
        1_000,
      ).catch(() => expect(last).toEqual(expected));
    },
    TEST_TIMEOUT,
  );

  it(
    "two releases side by side in another namespace: no name clashes, each Service selects only its own pods",
    async () => {
      const ns = "side-by-side";
      await Promise.all(["alpha", "beta"].map((rel) => install(rel, ns, ["-f", values("minimal")])));
      const owned = new Map<string, Set<string>>();
      for (const rel of ["alpha", "beta"]) {
        await deploymentSettled(ns, `${rel}-zephyr`, 2);
        const objects = await manifest(rel, ns);
        expect(objects.every((o) => o.metadata.name.startsWith(`${rel}-`))).toBe(true);
        await expectStoredAsRendered(objects, ns);
        owned.set(rel, new Set((await serverPods(ns, rel)).map((p) => p.metadata.name)));
      }
      for (const rel of ["alpha", "beta"]) {
        const mine = owned.get(rel) as Set<string>;
        const endpoints = await waitFor(`${rel} EndpointSlice with both pods`, async () => {
          const slices = await cp.api.list("discovery.k8s.io/v1", "EndpointSlice", ns, {
            "kubernetes.io/service-name": `${rel}-zephyr`,
          });
          const names = slices.flatMap((s) =>
            (s.endpoints ?? []).map((e: any) => e.targetRef?.name as string),
          );
          return names.length === 2 && names;
        });
        expect(endpoints.every((n) => mine.has(n))).toBe(true);
        await expectHelmTestPasses(rel, ns);
      }
      const list = JSON.parse((await helmOk(["list", "-n", ns, "-o", "json"])).stdout) as {
        name: string;
        status: string;
      }[];
      expect(list.map((l) => `${l.name}:${l.status}`).sort()).toEqual(["alpha:deployed", "beta:deployed"]);
    },
    TEST_TIMEOUT,
  );

  it.skipIf(!oci || !registryBin)(
    "release path: image pushed with podman and chart with helm push to a loopback registry, installed from oci:// pinned to the pushed digest",
    async () => {
      const { nodeImage } = oci as { nodeImage: string };
      const version = "1.2.3-rc.1";
      const ns = "release";
      const rel = "rel";
      const registry = await startRegistry();
      try {
        const work = scratchDir("release");
        // The runtime target, as the release workflow builds it, pushed as a user pushes an image.
        const built = await buildImage("runtime", checkoutImage("zephyr:runtime"), {
          nodeImage,
          timeoutMs: 600_000,
        });
        const image = `${registry.host}/zephyr`;
        const digestFile = join(work, "image.digest");
        const pushStarted = Date.now();
        await podmanOk(
          [
            "push",
            "--tls-verify=false",
            "--digestfile",
            digestFile,
            built.tag,
            `docker://${image}:${version}`,
          ],
          { timeoutMs: 300_000 },
        );
        const pushMs = Date.now() - pushStarted;
        const digest = readFileSync(digestFile, "utf8").trim();
        expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
        // What the registry serves for the tag is what podman pushed, and its config is the image podman built.
        expect(await registry.manifestDigest("zephyr", version)).toBe(digest);
        expect((await registry.manifest("zephyr", digest)).body.config.digest).toBe(`sha256:${built.id}`);

        // The release workflow's own packaging step: version and appVersion from the tag, the digest in values.yaml.
        const tgz = await new Promise<string>((done, fail) =>
          execFile(
            "bash",
            [
              ".ci/package-chart.sh",
              "--version",
              version,
              "--repository",
              image,
              "--digest",
              digest,
              "--destination",
              work,
              "--chart",
              CHART,
            ],
            { cwd: REPO_ROOT, env: { ...process.env, HELM: tools.helm as string }, encoding: "utf8" },
            (err, stdout, stderr) =>
              err ? fail(new Error(`package-chart.sh: ${stderr}`)) : done(stdout.trim()),
          ),
        );
        const chartRepo = `oci://${registry.host}/charts`;
        const pushed = await helmOk(["push", tgz, chartRepo, "--plain-http"]);
        const chartDigest = /^Digest: (sha256:[a-f0-9]{64})$/m.exec(pushed.stdout + pushed.stderr)?.[1];
        expect(chartDigest).toBeDefined();
        const chartManifest = await registry.manifest("charts/zephyr", version);
        expect(chartManifest.body.config.mediaType).toBe("application/vnd.cncf.helm.config.v1+json");
        expect(await registry.manifestDigest("charts/zephyr", version)).toBe(chartDigest);
        const chartRef = `${chartRepo}/zephyr`;
        const shown = parse(
          (await helmOk(["show", "chart", chartRef, "--version", version, "--plain-http"])).stdout,
        );
        expect(shown).toMatchObject({ name: "zephyr", version, appVersion: version });

        // No image values: a user installs the release as published, and the chart alone names the image.
        const r = await helmOk([
          "install",
          rel,
          chartRef,
          "--version",
          version,
          "--plain-http",
          "-n",
          ns,
          "--create-namespace",
          "--wait",
          "--timeout",
          "3m",
          "-f",
          values("minimal"),
        ]);
        // helm names the artifact it pulled: the one helm push stored, not a chart from disk.
        expect(r.stdout + r.stderr).toContain(`Pulled: ${registry.host}/charts/zephyr:${version}`);
        expect(r.stdout + r.stderr).toContain(`Digest: ${chartDigest}`);
        const meta = JSON.parse((await helmOk(["get", "metadata", rel, "-n", ns, "-o", "json"])).stdout);
        expect(meta).toMatchObject({ chart: "zephyr", version, appVersion: version, status: "deployed" });

        const pinned = `${image}@${digest}`;
        const d = await deploymentSettled(ns, `${rel}-zephyr`, 2);
        expect(d.spec.template.spec.containers[0].image).toBe(pinned);
        expect(d.spec.template.metadata.labels["app.kubernetes.io/version"]).toBe(version);
        const pods = (await serverPods(ns, rel)).filter(isReady);
        expect(pods.map((p) => p.spec.containers[0].image)).toEqual([pinned, pinned]);
        await expectJobComplete(ns, `${rel}-zephyr-migrate`, pinned);
        // Asked again at the end: the tag still resolves to the digest every pod of the release runs.
        expect(await registry.manifestDigest("zephyr", version)).toBe(digest);
        // A cold image build dominates this test; the log says which kind of run it was.
        console.log(`release path: image build ${built.ms} ms, podman push ${pushMs} ms, ${pinned}`);
      } finally {
        await registry.stop();
      }
    },
    RELEASE_TIMEOUT,
  );
});
