/**
 * What the control-plane suite needs from outside the repository: the binaries .ci/setup.d/50-controlplane.sh builds
 * into bin/, openssl for the PKI, and the Prometheus-Operator CRDs from shared/. A missing one skips the suite on a
 * laptop and fails it under CI=true (test/tools.ts).
 */
import { join } from "node:path";
import { requireCrdDir } from "../../../test/crd.js";
import { BIN } from "../../../test/paths.js";
import { requireTool } from "../../../test/tools.js";

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
export type Tools = { [K in keyof typeof tools]: string };

/** The metrics APIs, built by the same step: only the autoscaling suite asks for them. */
export const metricsTools = {
  metricsServer: requireTool("metrics-server", [join(BIN, "metrics-server")], hint),
  customMetricsAdapter: requireTool(
    "custom-metrics-test-adapter",
    [join(BIN, "custom-metrics-test-adapter")],
    hint,
  ),
};
export const metricsToolsPresent = Object.values(metricsTools).every(Boolean);
