import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { BIN, CHART, REPO_ROOT } from "./paths.js";
import { requireTool } from "./tools.js";

/** helm and kubernetes-validate as the chart's and skaffold.yaml's tests run them. */

const run = promisify(execFile);

/** The Kubernetes version the chart is validated against (acceptance: 1.30+). */
export const KUBE_VERSION = "1.30.0";

const hint = "run `bash .ci/setup`, which builds/installs it into bin/";
export const helm = requireTool("helm", [join(BIN, "helm")], hint);
/** kubernetes-validate, asked for only by the files that run it (see tools.ts for what a missing one does). */
export const requireKubernetesValidate = () =>
  requireTool("kubernetes-validate", [join(BIN, "kubernetes-validate")], hint);

export type K8sObject = {
  apiVersion: string;
  kind: string;
  // Loosely typed on purpose: each test asserts the fields it reads.
  metadata: { name: string; [k: string]: any };
  [k: string]: any;
};

export interface Rendered {
  text: string;
  objects: K8sObject[];
  get(kind: string, name?: string): K8sObject;
  all(kind: string): K8sObject[];
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** helm with the given arguments; callers skip when `helm` is undefined. */
export async function helmRun(args: string[]): Promise<HelmResult> {
  if (!helm) throw new Error("helm not available: skip this test with skipIf(!helm)");
  try {
    const { stdout, stderr } = await run(helm, args, { cwd: REPO_ROOT, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : 1,
      stdout: err.stdout ?? "",
      stderr: err.stderr ?? "",
    };
  }
}

export function templateArgs(valuesFiles: string[], set: string[] = []): string[] {
  return [
    "template",
    "zephyr",
    CHART,
    "--namespace",
    "zephyr",
    "--kube-version",
    KUBE_VERSION,
    ...valuesFiles.flatMap((f) => ["-f", f]),
    ...set.flatMap((s) => ["--set", s]),
  ];
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === "object");
}

/** `helm template` (hooks and test pods included, as helm install would create them); throws on failure. */
export async function render(valuesFiles: string[], set: string[] = []): Promise<Rendered> {
  const r = await helmRun(templateArgs(valuesFiles, set));
  if (r.code !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  const objects = parseManifests(r.stdout);
  const all = (kind: string) => objects.filter((o) => o.kind === kind);
  return {
    text: r.stdout,
    objects,
    all,
    get(kind, name) {
      const found = all(kind).filter((o) => name === undefined || o.metadata.name === name);
      if (found.length !== 1)
        throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
      return found[0] as K8sObject;
    },
  };
}
