/**
 * Command lines of the control plane's components, each on its own loopback port in the cluster's temp dir: etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes; kwok-stages.yaml says how their
 * pods behave).
 */
import { join } from "node:path";
import type { Pki } from "./pki.js";

const STAGES = join(import.meta.dirname, "kwok-stages.yaml");

export interface Ports {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
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
  ];
}

export function schedulerArgs(kubeconfig: string, ports: Ports): string[] {
  return [...common(kubeconfig), `--secure-port=${ports.scheduler}`];
}

export function kwokArgs(kubeconfig: string, ports: Ports): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${STAGES}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    `--server-address=127.0.0.1:${ports.kwok}`,
    "--node-ip=10.0.0.1",
    "--cidr=10.244.0.0/16",
  ];
}
