import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { K8sObject } from "../../test/helm.js";
import { CHART, REPO_ROOT } from "../../test/paths.js";

/** What only the chart's own tests use; helm itself is in test/helm.ts, shared with skaffold.yaml's test. */

/** Every chart/ci/*-values.yaml by short name (minimal, ingress, …). */
export const ciValues: Record<string, string> = Object.fromEntries(
  readdirSync(join(CHART, "ci"))
    .filter((f) => f.endsWith("-values.yaml"))
    .sort()
    .map((f) => [f.replace(/-values\.yaml$/, ""), join(CHART, "ci", f)]),
);

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
  const text = readFileSync(join(REPO_ROOT, "app/Dockerfile"), "utf8").replace(/\\\n/g, " ");
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
