/**
 * Command lines of the control plane's components, each on its own loopback port in the cluster's temp dir: etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes; kwok-stages.yaml says how their
 * pods behave).
 */
import { join } from "node:path";
import type { Pki } from "./pki.js";

const STAGES = join(import.meta.dirname, "kwok-stages.yaml");
const KWOK_METRICS = join(import.meta.dirname, "kwok-metrics.yaml");

export interface Ports {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

/** The metrics APIs' ports, when the cluster serves them. */
export interface MetricsPorts {
  customMetrics: number;
  /** The test adapter's plain-HTTP endpoint that values are written to. */
  customMetricsWrite: number;
  metricsServer: number;
}

export function etcdArgs(dir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcd}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    "--name=default",
    `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Durability is worthless for a cluster that lives one test file; fsync is most of etcd's latency.
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

export function apiserverArgs(dir: string, ports: Ports, pki: Pki): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--cert-dir=${join(dir, "apiserver-certs")}`,
    "--authorization-mode=RBAC",
    "--service-cluster-ip-range=10.96.0.0/16",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    // The kubernetes Service's endpoint would be 127.0.0.1, which Endpoints validation rejects; nothing here
    // needs in-cluster access to the apiserver.
    "--endpoint-reconciler-type=none",
    "--allow-privileged=true",
    "--profiling=false",
    // The aggregation layer, as kubeadm configures it: the apiserver proxies /apis/custom.metrics.k8s.io and
    // /apis/metrics.k8s.io to the servers behind their APIServices, authenticating with the front-proxy client
    // certificate and passing the user in these headers.
    `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
    "--requestheader-allowed-names=front-proxy-client",
    "--requestheader-username-headers=X-Remote-User",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
    `--proxy-client-key-file=${pki.frontProxyClientKey}`,
  ];
}

/** Flags the controller-manager and the scheduler share: the admin kubeconfig, loopback, no leader election. */
const common = (kubeconfig: string) => [
  `--kubeconfig=${kubeconfig}`,
  `--authentication-kubeconfig=${kubeconfig}`,
  `--authorization-kubeconfig=${kubeconfig}`,
  "--bind-address=127.0.0.1",
  "--leader-elect=false",
];

export function controllerManagerArgs(kubeconfig: string, ports: Ports, pki: Pki): string[] {
  return [
    ...common(kubeconfig),
    `--secure-port=${ports.controllerManager}`,
    // The stock set: 1.37's controller-manager has no cloud controllers left to disable (they moved to the
    // cloud-controller-manager), and everything the chart relies on is on by default (deployment, replicaset,
    // job, HPA, endpointslice, garbage collector, namespace, serviceaccount, disruption, nodelifecycle …).
    "--controllers=*",
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    "--use-service-account-credentials=false",
    // kwok's heartbeat Stage fires every 20–45 s; the default 50 s grace would let a slow tick taint the nodes
    // NotReady and evict the pods mid-test on a loaded machine.
    "--node-monitor-grace-period=5m",
    // Faster than the default 15 s, so the HPA's scale to minReplicas is observable within a test.
    "--horizontal-pod-autoscaler-sync-period=2s",
    // A new pod's CPU counts after 10 s instead of 5 min (kwok pods are Ready at once, real ones warm up); the
    // chart's HPA behavior, not these, sets the pace of scaling.
    "--horizontal-pod-autoscaler-cpu-initialization-period=10s",
    "--horizontal-pod-autoscaler-initial-readiness-delay=5s",
  ];
}

export function schedulerArgs(kubeconfig: string, ports: Ports): string[] {
  return [...common(kubeconfig), `--secure-port=${ports.scheduler}`];
}

export function kwokArgs(kubeconfig: string, ports: Ports): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${STAGES}`,
    // Each fake node's kubelet resource metrics, for metrics-server; the node advertises kwok's port as its
    // kubelet port (daemonEndpoints), and the path per node in an annotation metrics-server reads.
    `--config=${KWOK_METRICS}`,
    `--node-port=${ports.kwok}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    `--server-address=127.0.0.1:${ports.kwok}`,
    "--node-ip=10.0.0.1",
    "--cidr=10.244.0.0/16",
  ];
}

/** sigs.k8s.io/custom-metrics-apiserver's test adapter: serves the custom metric values written to it. */
export function customMetricsArgs(kubeconfig: string, metrics: MetricsPorts, pki: Pki): string[] {
  const { cert, key } = pki.aggregated["custom-metrics"];
  return [
    `--secure-port=${metrics.customMetrics}`,
    "--bind-address=127.0.0.1",
    `--tls-cert-file=${cert}`,
    `--tls-private-key-file=${key}`,
    `--lister-kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--write-address=127.0.0.1:${metrics.customMetricsWrite}`,
  ];
}

/** metrics-server, scraping each kwok node's resource metrics over plain HTTP on loopback. */
export function metricsServerArgs(kubeconfig: string, metrics: MetricsPorts, pki: Pki): string[] {
  const { cert, key } = pki.aggregated["metrics-server"];
  return [
    `--secure-port=${metrics.metricsServer}`,
    "--bind-address=127.0.0.1",
    `--tls-cert-file=${cert}`,
    `--tls-private-key-file=${key}`,
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    // The nodes' ExternalIP is 127.0.0.1 (kwok's node IP is not routable here); kwok serves plain HTTP.
    "--kubelet-preferred-address-types=ExternalIP",
    "--kubelet-use-node-status-port",
    "--deprecated-kubelet-completely-insecure",
    // Its shortest resolution: the HPA sees a CPU change within ~20 s.
    "--metric-resolution=10s",
    "--kubelet-request-timeout=5s",
  ];
}
