/**
 * A throwaway Kubernetes control plane on loopback for the chart's install/upgrade tests: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok (fake nodes whose pods become Ready, and Job and `helm test`
 * pods complete), all built by .ci/setup.d/50-controlplane.sh into bin/. Nothing runs as a container: the
 * controllers are the real ones, only the kubelet is simulated.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { CRD_DIR } from "../../../test/crd.js";
import {
  apiserverArgs,
  controllerManagerArgs,
  customMetricsArgs,
  etcdArgs,
  kwokArgs,
  type MetricsPorts,
  metricsServerArgs,
  type Ports,
  schedulerArgs,
} from "./components.js";
import { KubeApi } from "./kube-api.js";
import { makeCerts, type Pki, writeKubeconfig } from "./pki.js";
import { freePorts, type ProcessGroup, processGroup } from "./processes.js";
import { metricsTools, metricsToolsPresent, type Tools, tools, toolsPresent } from "./requirements.js";
import { waitFor } from "./wait.js";

export interface ControlPlane {
  dir: string;
  kubeconfig: string;
  api: KubeApi;
  /** Environment for bin/helm: this cluster, and helm's caches inside the temp dir. */
  env: NodeJS.ProcessEnv;
  nodes: { name: string; zone: string }[];
  /** GET of any API path as the admin (aggregated APIs included), parsed JSON; throws on a non-2xx answer. */
  getRaw<T = unknown>(path: string): Promise<T>;
  /** With metricsApis: the test adapter's endpoint that custom metric values are written to. */
  customMetricsWriteUrl?: string;
  /** The last lines of every component's log, for failure messages. */
  logTail(lines?: number): string;
  /** An outage of one component (e.g. "custom-metrics-adapter"): SIGKILL, and later a restart as it was. */
  kill(component: string): Promise<void>;
  restart(component: string): void;
  stop(): Promise<void>;
}

/**
 * Starts the whole control plane with three fake nodes in three zones and the Prometheus-Operator CRDs, and
 * returns once pods can be scheduled. Everything lives in one temp dir and on free loopback ports. With
 * metricsApis, also metrics-server (metrics.k8s.io, from kwok's emulated kubelet metrics) and the custom-metrics
 * test adapter (custom.metrics.k8s.io), registered through the aggregation layer and Available.
 */
export async function startControlPlane({ metricsApis = false } = {}): Promise<ControlPlane> {
  if (!toolsPresent) throw new Error("control-plane tools missing");
  if (metricsApis && !metricsToolsPresent)
    throw new Error("metrics-server or the custom-metrics adapter missing");
  const t = tools as Tools;
  const dir = mkdtempSync(join(tmpdir(), "zephyr-controlplane-"));
  const procs = processGroup(dir);
  const stop = async () => {
    await procs.stop();
    if (!process.env.KEEP_CONTROLPLANE) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const pki = makeCerts(dir, t.openssl);
    const [etcd, etcdPeer, apiserver, controllerManager, scheduler, kwok] = await freePorts(6);
    const ports = { etcd, etcdPeer, apiserver, controllerManager, scheduler, kwok } as Ports;
    const kubeconfig = writeKubeconfig(dir, `https://127.0.0.1:${ports.apiserver}`, pki);

    procs.start("etcd", t.etcd, etcdArgs(dir, ports));
    await waitFor(
      "etcd /health",
      async () => {
        procs.alive();
        const r = await fetch(`http://127.0.0.1:${ports.etcd}/health`);
        return r.ok && ((await r.json()) as { health: string }).health === "true";
      },
      30_000,
    );

    procs.start("kube-apiserver", t.apiserver, apiserverArgs(dir, ports, pki), { HOME: dir });
    const api = new KubeApi(kubeconfig);
    await waitFor(
      "kube-apiserver /readyz",
      async () => {
        procs.alive();
        return api.ready();
      },
      90_000,
      500,
    );

    procs.start(
      "kube-controller-manager",
      t.controllerManager,
      controllerManagerArgs(kubeconfig, ports, pki),
    );
    procs.start("kube-scheduler", t.scheduler, schedulerArgs(kubeconfig, ports));
    // kwok also reads ~/.kwok/kwok.yaml; an isolated HOME keeps a developer's own config out of the tests.
    procs.start("kwok", t.kwok, kwokArgs(kubeconfig, ports), { HOME: dir });

    // The Prometheus-Operator CRDs, as every cluster running kube-prometheus-stack has them.
    await installCrds(
      api,
      readdirSync(CRD_DIR).filter((f) => f.startsWith("monitoring.coreos.com_")),
    );
    const nodes = await addNodes(api, procs.alive);
    const getRaw = <T>(path: string) => getAsAdmin<T>(`https://127.0.0.1:${ports.apiserver}${path}`, pki);
    let customMetricsWriteUrl: string | undefined;
    if (metricsApis) {
      const [customMetrics, customMetricsWrite, metricsServer] = await freePorts(3);
      const metrics = { customMetrics, customMetricsWrite, metricsServer } as MetricsPorts;
      await startMetricsApis(api, procs, kubeconfig, metrics, pki);
      customMetricsWriteUrl = `http://127.0.0.1:${customMetricsWrite}/write-metrics`;
    }
    // The serviceaccount controller's default ServiceAccount is what tells us the controller-manager is working;
    // pods without one are refused by the ServiceAccount admission plugin.
    await waitFor("default ServiceAccount", async () => {
      procs.alive();
      return api.getObject(
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } },
        "default",
      );
    });

    const helmHome = join(dir, "helm");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KUBECONFIG: kubeconfig,
      HELM_CACHE_HOME: join(helmHome, "cache"),
      HELM_CONFIG_HOME: join(helmHome, "config"),
      HELM_DATA_HOME: join(helmHome, "data"),
    };
    return {
      dir,
      kubeconfig,
      api,
      env,
      nodes,
      getRaw,
      customMetricsWriteUrl,
      logTail: procs.logTail,
      kill: procs.kill,
      restart: procs.restart,
      stop,
    };
  } catch (e) {
    const tail = procs.logTail(40);
    await stop();
    throw new Error(`control plane did not start: ${(e as Error).message}\n${tail}`);
  }
}

/** CRDs from shared/ (file names in its crds/ folder), each waited for until Established, so helm finds the kinds. */
export async function installCrds(api: KubeApi, files: string[]) {
  const crds = api.client(ApiextensionsV1Api);
  for (const file of files) {
    const docs = loadAllYaml(readFileSync(join(CRD_DIR, file), "utf8")) as V1CustomResourceDefinition[];
    for (const crd of docs.filter((d) => d?.kind === "CustomResourceDefinition")) {
      const name = crd.metadata?.name as string;
      await crds.createCustomResourceDefinition({ body: crd });
      await waitFor(`CRD ${name} Established`, async () => {
        const got = await crds.readCustomResourceDefinition({ name });
        return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      });
    }
  }
}

/**
 * The two metrics servers as processes on loopback, each behind an ExternalName Service (the aggregator's default
 * resolver dials externalName:<APIService port>, and skips Endpoints checks for such a Service: no kube-proxy is
 * needed) and its APIServices; returns once every APIService is Available.
 */
async function startMetricsApis(
  api: KubeApi,
  procs: ProcessGroup,
  kubeconfig: string,
  metrics: MetricsPorts,
  pki: Pki,
) {
  const m = metricsTools as { metricsServer: string; customMetricsAdapter: string };
  procs.start("custom-metrics-adapter", m.customMetricsAdapter, customMetricsArgs(kubeconfig, metrics, pki));
  procs.start("metrics-server", m.metricsServer, metricsServerArgs(kubeconfig, metrics, pki));
  const caBundle = readFileSync(pki.caCert).toString("base64");
  const core = api.client(CoreV1Api);
  const services = [
    {
      service: "custom-metrics",
      port: metrics.customMetrics,
      group: "custom.metrics.k8s.io",
      versions: ["v1beta2", "v1beta1"],
    },
    {
      service: "metrics-server",
      port: metrics.metricsServer,
      group: "metrics.k8s.io",
      versions: ["v1beta1"],
    },
  ];
  for (const s of services) {
    await core.createNamespacedService({
      namespace: "kube-system",
      body: { metadata: { name: s.service }, spec: { type: "ExternalName", externalName: "127.0.0.1" } },
    });
    for (const [i, version] of s.versions.entries()) {
      await api.create({
        apiVersion: "apiregistration.k8s.io/v1",
        kind: "APIService",
        metadata: { name: `${version}.${s.group}` },
        spec: {
          group: s.group,
          version,
          service: { name: s.service, namespace: "kube-system", port: s.port },
          caBundle,
          groupPriorityMinimum: 100,
          // The first listed is the preferred version (the HPA discovers it).
          versionPriority: 200 - 100 * i,
        },
      });
    }
  }
  await waitFor(
    "metrics APIServices Available",
    async () => {
      procs.alive();
      const all = await api.list("apiregistration.k8s.io/v1", "APIService");
      const ours = all.filter((a) => services.some((s) => a.spec?.group === s.group));
      return (
        ours.length === 3 &&
        ours.every((a) =>
          a.status?.conditions?.some((c: any) => c.type === "Available" && c.status === "True"),
        )
      );
    },
    90_000,
    500,
  );
}

/** A GET with the admin client certificate, trusting the cluster's CA. */
function getAsAdmin<T>(url: string, pki: Pki): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        cert: readFileSync(pki.adminCert),
        key: readFileSync(pki.adminKey),
        ca: readFileSync(pki.caCert),
        timeout: 30_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => {
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(JSON.parse(body) as T);
          else reject(new Error(`GET ${url}: ${res.statusCode} ${body.slice(0, 300)}`));
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** Three fake nodes (kwok manages those annotated kwok.x-k8s.io/node=fake) in three zones, Ready and untainted. */
async function addNodes(api: KubeApi, alive: () => void) {
  const nodes = ["a", "b", "c"].map((z) => ({ name: `kwok-node-${z}`, zone: `zone-${z}` }));
  const core = api.client(CoreV1Api);
  for (const n of nodes) {
    // Room for four pods of the autoscaling test, whose CPU request it raises to 4 cores.
    const capacity = { cpu: "16", memory: "64Gi", pods: "110" };
    await core.createNode({
      body: {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: n.name,
          annotations: {
            "kwok.x-k8s.io/node": "fake",
            "node.alpha.kubernetes.io/ttl": "0",
            // Where metrics-server finds this node's kubelet resource metrics on kwok (kwok-metrics.yaml).
            "metrics.k8s.io/resource-metrics-path": `/metrics/nodes/${n.name}/metrics/resource`,
          },
          labels: {
            "kubernetes.io/hostname": n.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": n.zone,
            type: "kwok",
          },
        },
        // kwok adds its (unroutable) InternalIP; metrics-server reaches kwok through the ExternalIP.
        status: {
          allocatable: capacity,
          capacity,
          addresses: [{ type: "ExternalIP", address: "127.0.0.1" }],
        },
      },
    });
  }
  await waitFor(
    "fake nodes Ready and untainted",
    async () => {
      alive();
      const ns = await api.list("v1", "Node");
      return (
        ns.length === nodes.length &&
        ns.every(
          (n) =>
            n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") &&
            !(n.spec?.taints ?? []).length,
        )
      );
    },
    60_000,
  );
  return nodes;
}
