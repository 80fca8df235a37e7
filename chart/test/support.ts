import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { requireTool } from "../../app/test/support/tools.js";

const run = promisify(execFile);

export const REPO = resolve(import.meta.dirname, "../..");
export const CHART = join(REPO, "chart");
export const BIN = join(REPO, "bin");
/** The Kubernetes version the chart is validated against (acceptance: 1.30+). */
export const KUBE_VERSION = "1.30.0";

const hint = "run `bash .ci/setup`, which builds/installs it into bin/";
export const helm = requireTool("helm", [join(BIN, "helm")], hint);
export const kubernetesValidate = requireTool(
  "kubernetes-validate",
  [join(BIN, "kubernetes-validate"), join(REPO, ".cache/venv/bin/kubernetes-validate")],
  hint,
);
export const httpRouteValidate = requireTool("httproute-validate", [join(BIN, "httproute-validate")], hint);
export const HTTPROUTE_CRD = join(REPO, ".cache/gateway-api/httproutes.yaml");

/** Every chart/ci/*-values.yaml by short name (minimal, ingress, …). */
export const ciValues: Record<string, string> = Object.fromEntries(
  readdirSync(join(CHART, "ci"))
    .filter((f) => f.endsWith("-values.yaml"))
    .sort()
    .map((f) => [f.replace(/-values\.yaml$/, ""), join(CHART, "ci", f)]),
);

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

export async function helmRun(args: string[]): Promise<HelmResult> {
  if (!helm) throw new Error("helm not available");
  try {
    const { stdout, stderr } = await run(helm, args, { cwd: REPO, maxBuffer: 32 * 1024 * 1024 });
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

/** The app's own default PORT, from its config schema, so the chart is compared with the code rather than a copy. */
export async function appDefaultPort(): Promise<number> {
  const { loadConfig } = await import("../../app/src/config/index.js");
  return loadConfig({}).http.port;
}

/** ENTRYPOINT, ENV and WORKDIR of the Dockerfile's final stage: what a container built from it starts with. */
export function dockerRuntime(): {
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workdir: string;
  user?: { uid: number; gid: number };
} {
  const text = readFileSync(join(REPO, "app/Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const stages = text.split(/^FROM /m);
  const last = stages[stages.length - 1] ?? "";
  const json = (instr: string) => {
    const m = new RegExp(`^${instr}\\s+(\\[.*\\])\\s*$`, "m").exec(last);
    return m ? (JSON.parse(m[1] as string) as string[]) : [];
  };
  const env: Record<string, string> = {};
  for (const m of last.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$/gm))
    env[m[1] as string] = m[2] as string;
  const workdir = /^WORKDIR\s+(\S+)/m.exec(last)?.[1] ?? "/";
  const u = /^USER\s+(\d+)(?::(\d+))?\s*$/m.exec(last);
  const user = u ? { uid: Number(u[1]), gid: Number(u[2] ?? u[1]) } : undefined;
  return { entrypoint: json("ENTRYPOINT"), cmd: json("CMD"), env, workdir, user };
}

export function decodeSecret(secret: K8sObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>))
    out[k] = Buffer.from(v, "base64").toString("utf8");
  for (const [k, v] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) out[k] = v;
  return out;
}
