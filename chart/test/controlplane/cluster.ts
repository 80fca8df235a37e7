/**
 * A throwaway Kubernetes control plane on loopback for the chart's install/upgrade tests: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok (fake nodes whose pods become Ready, and Job and `helm test`
 * pods complete), all built by .ci/setup.d/50-controlplane.sh into bin/. Nothing runs as a container: the
 * controllers are the real ones, only the kubelet is simulated.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
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
  etcdArgs,
  kwokArgs,
  type Ports,
  schedulerArgs,
} from "./components.js";
import { KubeApi } from "./kube-api.js";
import { makeCerts, writeKubeconfig } from "./pki.js";
import { freePorts, processGroup } from "./processes.js";
import { type Tools, tools, toolsPresent } from "./requirements.js";
import { waitFor } from "./wait.js";

export interface ControlPlane {
  dir: string;
  kubeconfig: string;
  api: KubeApi;
  /** Environment for bin/helm: this cluster, and helm's caches inside the temp dir. */
  env: NodeJS.ProcessEnv;
  nodes: { name: string; zone: string }[];
  /** The last lines of every component's log, for failure messages. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * Starts the whole control plane with three fake nodes in three zones and the Prometheus-Operator CRDs, and
 * returns once pods can be scheduled. Everything lives in one temp dir and on free loopback ports.
 */
export async function startControlPlane(): Promise<ControlPlane> {
  if (!toolsPresent) throw new Error("control-plane tools missing");
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

    await installCrds(api);
    const nodes = await addNodes(api, procs.alive);
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
    return { dir, kubeconfig, api, env, nodes, logTail: procs.logTail, stop };
  } catch (e) {
    const tail = procs.logTail(40);
    await stop();
    throw new Error(`control plane did not start: ${(e as Error).message}\n${tail}`);
  }
}

/** The Prometheus-Operator CRDs from shared/, each waited for until Established. */
async function installCrds(api: KubeApi) {
  const crds = api.client(ApiextensionsV1Api);
  for (const file of readdirSync(CRD_DIR).filter((f) => f.startsWith("monitoring.coreos.com_"))) {
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

/** Three fake nodes (kwok manages those annotated kwok.x-k8s.io/node=fake) in three zones, Ready and untainted. */
async function addNodes(api: KubeApi, alive: () => void) {
  const nodes = ["a", "b", "c"].map((z) => ({ name: `kwok-node-${z}`, zone: `zone-${z}` }));
  const core = api.client(CoreV1Api);
  for (const n of nodes) {
    const capacity = { cpu: "4", memory: "16Gi", pods: "110" };
    await core.createNode({
      body: {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: n.name,
          annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
          labels: {
            "kubernetes.io/hostname": n.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": n.zone,
            type: "kwok",
          },
        },
        status: { allocatable: capacity, capacity },
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
