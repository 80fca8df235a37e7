/**
 * A throwaway Kubernetes control plane on loopback for the chart's install/upgrade tests: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok (fake nodes whose pods become Ready, and Job and `helm test`
 * pods complete), all built by .ci/setup.d/50-controlplane.sh into bin/. Nothing runs as a container: the
 * controllers are the real ones, only the kubelet is simulated.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { CRD_DIR, requireCrdDir } from "../../../test/crd.js";
import { requireTool } from "../../../test/tools.js";

export const REPO = resolve(import.meta.dirname, "../../..");
export const BIN = join(REPO, "bin");
const STAGES = join(import.meta.dirname, "kwok-stages.yaml");

const hint = "run `bash .ci/setup` (its 50-controlplane.sh step builds the control plane into bin/)";
export const tools = {
  helm: requireTool("helm", [join(BIN, "helm")], hint),
  etcd: requireTool("etcd", [join(BIN, "etcd")], hint),
  apiserver: requireTool("kube-apiserver", [join(BIN, "kube-apiserver")], hint),
  controllerManager: requireTool("kube-controller-manager", [join(BIN, "kube-controller-manager")], hint),
  scheduler: requireTool("kube-scheduler", [join(BIN, "kube-scheduler")], hint),
  kwok: requireTool("kwok", [join(BIN, "kwok")], hint),
  openssl: requireTool("openssl", [], "apt-get install openssl"),
  /** The Prometheus-Operator CRDs the monitoring templates must be accepted by. */
  crds: requireCrdDir([
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
    "monitoring.coreos.com_podmonitors.yaml",
  ]),
};
export const toolsPresent = Object.values(tools).every(Boolean);

export type KObject = {
  apiVersion: string;
  kind: string;
  // Loosely typed on purpose: each test asserts the fields it reads.
  metadata: { name: string; namespace?: string; [k: string]: any };
  [k: string]: any;
};

export interface ApiResponse {
  status: number;
  body: any;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KObject;
}

interface Resource {
  name: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
}

/** Just enough of a Kubernetes client: JSON over HTTPS with the admin client certificate. */
export class KubeApi {
  private readonly discovery = new Map<string, Resource[]>();

  constructor(
    readonly server: string,
    private readonly tls: { ca: string; cert: string; key: string },
  ) {}

  request(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<ApiResponse> {
    return new Promise((done, fail) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, this.server),
        {
          method,
          ...this.tls,
          headers: { accept: "application/json", ...(payload ? { "content-type": contentType } : {}) },
          timeout: 30_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            text += c;
          });
          res.on("end", () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // Non-JSON answers (/readyz) stay text.
            }
            done({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on("error", fail);
      req.end(payload);
    });
  }

  async get<T = KObject>(path: string): Promise<T> {
    const r = await this.request("GET", path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    return r.body as T;
  }

  async getOrNull<T = KObject>(path: string): Promise<T | null> {
    const r = await this.request("GET", path);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    return r.body as T;
  }

  async list(path: string): Promise<KObject[]> {
    return (await this.get<{ items: KObject[] }>(path)).items;
  }

  async create(path: string, obj: unknown): Promise<KObject> {
    const r = await this.request("POST", path, obj);
    if (r.status !== 201 && r.status !== 200) {
      throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    }
    return r.body as KObject;
  }

  /** Streams watch events until the returned stop() is called; events arrive in the server's order. */
  watch(path: string, onEvent: (e: WatchEvent) => void): { ready: Promise<void>; stop: () => void } {
    const sep = path.includes("?") ? "&" : "?";
    let stopped = false;
    let req: ReturnType<typeof request> | undefined;
    const ready = new Promise<void>((done, fail) => {
      req = request(
        new URL(`${path}${sep}watch=true&allowWatchBookmarks=false`, this.server),
        { method: "GET", ...this.tls, headers: { accept: "application/json" } },
        (res) => {
          if (res.statusCode !== 200) {
            fail(new Error(`watch ${path}: ${res.statusCode}`));
            return;
          }
          done();
          let buf = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            buf += c;
            let nl = buf.indexOf("\n");
            while (nl >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line) onEvent(JSON.parse(line) as WatchEvent);
              nl = buf.indexOf("\n");
            }
          });
        },
      );
      req.on("error", (e) => {
        if (!stopped) fail(e);
      });
      req.end();
    });
    return {
      ready,
      stop: () => {
        stopped = true;
        req?.destroy();
      },
    };
  }

  private async resources(apiVersion: string): Promise<Resource[]> {
    let rs = this.discovery.get(apiVersion);
    if (!rs) {
      const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      rs = (await this.get<{ resources: Resource[] }>(base)).resources.filter((r) => !r.name.includes("/"));
      this.discovery.set(apiVersion, rs);
    }
    return rs;
  }

  /** The REST path of an object (or of its collection when name is omitted), from discovery. */
  async pathFor(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    const r = (await this.resources(apiVersion)).find((x) => x.kind === kind);
    if (!r) throw new Error(`${apiVersion} ${kind} is not served by this apiserver`);
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced ? `/namespaces/${namespace ?? "default"}` : "";
    return `${base}${ns}/${r.name}${name ? `/${name}` : ""}`;
  }

  async getObject(ref: { apiVersion: string; kind: string; metadata: { name: string } }, namespace: string) {
    return this.getOrNull(await this.pathFor(ref.apiVersion, ref.kind, namespace, ref.metadata.name));
  }

  /** Every listable namespaced resource type the server serves (preferred versions), for "nothing left" checks. */
  async namespacedListables(): Promise<{ apiVersion: string; kind: string; path: (ns: string) => string }[]> {
    const groups = await this.get<{ groups: { preferredVersion: { groupVersion: string } }[] }>("/apis");
    const versions = ["v1", ...groups.groups.map((g) => g.preferredVersion.groupVersion)];
    const out: { apiVersion: string; kind: string; path: (ns: string) => string }[] = [];
    for (const v of versions) {
      this.discovery.delete(v);
      for (const r of await this.resources(v)) {
        if (!r.namespaced || !r.verbs.includes("list") || r.kind === "Event") continue;
        const base = v.includes("/") ? `/apis/${v}` : `/api/${v}`;
        out.push({ apiVersion: v, kind: r.kind, path: (ns) => `${base}/namespaces/${ns}/${r.name}` });
      }
    }
    return out;
  }
}

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

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function freePorts(n: number): Promise<number[]> {
  // All held open at once so the kernel cannot hand the same port out twice.
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((done, fail) => {
          const s = createServer();
          s.once("error", fail);
          s.listen(0, "127.0.0.1", () => done(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (!a || typeof a === "string") throw new Error("no port");
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function makeCerts(dir: string, openssl: string) {
  const ssl = (...args: string[]) =>
    execFileSync(openssl, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=zephyr-test-ca",
  );
  const leaf = (name: string, subj: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj);
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    );
  };
  leaf(
    "serving",
    "/CN=kube-apiserver",
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n",
  );
  // system:masters bypasses RBAC: helm and the controllers act as cluster admin, the way kubeadm's admin.conf does.
  leaf("admin", "/O=system:masters/CN=zephyr-admin", "extendedKeyUsage=clientAuth\n");
  // The service-account token signer: the apiserver verifies with the public half, the controller-manager signs.
  const sa = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  writeFileSync(join(dir, "sa.key"), sa.privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(join(dir, "sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: boolean;
}

/**
 * Starts the whole control plane with three fake nodes in three zones and the Prometheus-Operator CRDs, and
 * returns once pods can be scheduled. Everything lives in one temp dir and on free loopback ports.
 */
export async function startControlPlane(): Promise<ControlPlane> {
  if (!toolsPresent) throw new Error("control-plane tools missing");
  const t = tools as { [K in keyof typeof tools]: string };
  const dir = mkdtempSync(join(tmpdir(), "zephyr-controlplane-"));
  const procs: Proc[] = [];
  const start = (name: string, bin: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, "a");
    // Own process group, so stop() can signal anything a component forks.
    const child = spawn(bin, args, {
      cwd: dir,
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...env },
    });
    closeSync(fd);
    const p: Proc = { name, child, log, exited: false };
    child.on("exit", () => {
      p.exited = true;
    });
    procs.push(p);
    return p;
  };
  const logTail = (lines = 15) =>
    procs
      .map((p) => {
        let text = "";
        try {
          text = readFileSync(p.log, "utf8");
        } catch {
          // not written yet
        }
        return `--- ${p.name}${p.exited ? " (exited)" : ""}\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`;
      })
      .join("\n");
  const alive = () => {
    const dead = procs.find((p) => p.exited);
    if (dead) throw new Error(`${dead.name} exited early:\n${logTail(30)}`);
  };
  const stop = async () => {
    for (const p of [...procs].reverse()) {
      if (p.exited || p.child.pid === undefined) continue;
      const gone = new Promise((r) => p.child.once("exit", r));
      try {
        process.kill(-p.child.pid, "SIGTERM");
      } catch {
        continue;
      }
      const timer = setTimeout(() => {
        try {
          if (p.child.pid !== undefined) process.kill(-p.child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 5_000);
      await gone;
      clearTimeout(timer);
    }
    if (!process.env.KEEP_CONTROLPLANE) rmSync(dir, { recursive: true, force: true });
  };

  try {
    makeCerts(dir, t.openssl);
    const [etcdPort, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = (await freePorts(6)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = join(dir, "admin.kubeconfig");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: test\n  cluster:\n    server: ${server}\n    certificate-authority: ${join(dir, "ca.crt")}`,
        "users:",
        `- name: admin\n  user:\n    client-certificate: ${join(dir, "admin.crt")}\n    client-key: ${join(dir, "admin.key")}`,
        "contexts:\n- name: test\n  context: {cluster: test, user: admin}",
        "current-context: test",
        "",
      ].join("\n"),
    );

    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    start("etcd", t.etcd, [
      "--name=default",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      // Durability is worthless for a cluster that lives one test file; fsync is most of etcd's latency.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ]);
    await waitFor(
      "etcd /health",
      async () => {
        alive();
        const r = await fetch(`${etcdUrl}/health`);
        return r.ok && ((await r.json()) as { health: string }).health === "true";
      },
      30_000,
    );

    start(
      "kube-apiserver",
      t.apiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${join(dir, "serving.crt")}`,
        `--tls-private-key-file=${join(dir, "serving.key")}`,
        `--client-ca-file=${join(dir, "ca.crt")}`,
        `--cert-dir=${join(dir, "apiserver-certs")}`,
        "--authorization-mode=RBAC",
        "--service-cluster-ip-range=10.96.0.0/16",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${join(dir, "sa.pub")}`,
        `--service-account-signing-key-file=${join(dir, "sa.key")}`,
        // The kubernetes Service's endpoint would be 127.0.0.1, which Endpoints validation rejects; nothing here
        // needs in-cluster access to the apiserver.
        "--endpoint-reconciler-type=none",
        "--allow-privileged=true",
        "--profiling=false",
      ],
      { HOME: dir },
    );
    const tls = {
      ca: readFileSync(join(dir, "ca.crt"), "utf8"),
      cert: readFileSync(join(dir, "admin.crt"), "utf8"),
      key: readFileSync(join(dir, "admin.key"), "utf8"),
    };
    const api = new KubeApi(server, tls);
    await waitFor(
      "kube-apiserver /readyz",
      async () => {
        alive();
        return (await api.request("GET", "/readyz")).status === 200;
      },
      90_000,
      500,
    );

    const common = [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      "--leader-elect=false",
    ];
    start("kube-controller-manager", t.controllerManager, [
      ...common,
      `--secure-port=${kcmPort}`,
      // The stock set: 1.37's controller-manager has no cloud controllers left to disable (they moved to the
      // cloud-controller-manager), and everything the chart relies on is on by default (deployment, replicaset,
      // job, HPA, endpointslice, garbage collector, namespace, serviceaccount, disruption, nodelifecycle …).
      "--controllers=*",
      `--service-account-private-key-file=${join(dir, "sa.key")}`,
      `--root-ca-file=${join(dir, "ca.crt")}`,
      `--cluster-signing-cert-file=${join(dir, "ca.crt")}`,
      `--cluster-signing-key-file=${join(dir, "ca.key")}`,
      "--use-service-account-credentials=false",
      // kwok's heartbeat Stage fires every 20–45 s; the default 50 s grace would let a slow tick taint the nodes
      // NotReady and evict the pods mid-test on a loaded machine.
      "--node-monitor-grace-period=5m",
      // Faster than the default 15 s, so the HPA's scale to minReplicas is observable within a test.
      "--horizontal-pod-autoscaler-sync-period=2s",
    ]);
    start("kube-scheduler", t.scheduler, [...common, `--secure-port=${schedPort}`]);
    start(
      "kwok",
      t.kwok,
      [
        `--kubeconfig=${kubeconfig}`,
        `--config=${STAGES}`,
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        `--server-address=127.0.0.1:${kwokPort}`,
        "--node-ip=10.0.0.1",
        "--cidr=10.244.0.0/16",
      ],
      // kwok also reads ~/.kwok/kwok.yaml; an isolated HOME keeps a developer's own config out of the tests.
      { HOME: dir },
    );

    for (const file of readdirSync(CRD_DIR).filter((f) => f.startsWith("monitoring.coreos.com_"))) {
      for (const doc of parseAllDocuments(readFileSync(join(CRD_DIR, file), "utf8"))) {
        const crd = doc.toJS() as KObject | null;
        if (crd?.kind !== "CustomResourceDefinition") continue;
        await api.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
        await waitFor(`CRD ${crd.metadata.name} Established`, async () => {
          const got = await api.get(
            `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
          );
          return got.status?.conditions?.some((c: any) => c.type === "Established" && c.status === "True");
        });
      }
    }

    const nodes = ["a", "b", "c"].map((z) => ({ name: `kwok-node-${z}`, zone: `zone-${z}` }));
    for (const n of nodes) {
      await api.create("/api/v1/nodes", {
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
        status: {
          allocatable: { cpu: "4", memory: "16Gi", pods: "110" },
          capacity: { cpu: "4", memory: "16Gi", pods: "110" },
        },
      });
    }
    await waitFor(
      "fake nodes Ready and untainted",
      async () => {
        alive();
        const ns = await api.list("/api/v1/nodes");
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
    // The serviceaccount controller's default ServiceAccount is what tells us the controller-manager is working;
    // pods without one are refused by the ServiceAccount admission plugin.
    await waitFor("default ServiceAccount", async () => {
      alive();
      return api.getOrNull("/api/v1/namespaces/default/serviceaccounts/default");
    });

    const helmHome = join(dir, "helm");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KUBECONFIG: kubeconfig,
      HELM_CACHE_HOME: join(helmHome, "cache"),
      HELM_CONFIG_HOME: join(helmHome, "config"),
      HELM_DATA_HOME: join(helmHome, "data"),
    };
    return { dir, kubeconfig, api, env, nodes, logTail, stop };
  } catch (e) {
    const tail = logTail(40);
    await stop();
    throw new Error(`control plane did not start: ${(e as Error).message}\n${tail}`);
  }
}
