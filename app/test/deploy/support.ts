import { readFileSync } from "node:fs";
import { request } from "node:http";
import { resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import * as ajvFormats from "ajv-formats";
import { parse } from "yaml";
import { type K8sObject, render } from "../../../test/helm.js";
import { REPO_ROOT } from "../../../test/paths.js";
import { requireShared } from "../../../test/shared.js";

export type Json = Record<string, any>;

/** A JSON schema from shared/schemas, or undefined after skipOrFail (test/tools.ts) when it is not there. */
export function requireSchema(relPath: string): Json | undefined {
  const [file] = requireShared(`schemas/${relPath}`) ?? [];
  return file ? (JSON.parse(readFileSync(file, "utf8")) as Json) : undefined;
}

/**
 * Draft-07 validator returning "path: message" lines. strict:false because both upstream schemas carry
 * vocabulary ajv does not know (skaffold's x-intellij-html-description and preferredOrder, compose's
 * patternProperties-only objects); unknown keywords are annotations there, not constraints.
 */
export function validator(schema: Json): (doc: unknown) => string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  // ajv-formats is CommonJS; under NodeNext its default export sits one level down.
  ((ajvFormats as any).default as (a: Ajv) => void)(ajv);
  const { $schema: _ignored, ...body } = schema;
  const check = ajv.compile(body);
  const fmt = (e: ErrorObject) =>
    `${e.instancePath || "/"}: ${e.message}${
      e.params && "additionalProperty" in e.params ? ` (${e.params.additionalProperty})` : ""
    }`;
  return (doc) => (check(doc) ? [] : (check.errors ?? []).map(fmt));
}

export function readYaml(relPath: string): Json {
  return parse(readFileSync(resolve(REPO_ROOT, relPath), "utf8")) as Json;
}

export interface DockerStage {
  name: string;
  base: string;
  instrs: Array<{ op: string; args: string }>;
}

/** Stages of app/Dockerfile with their instructions (continuation lines joined, comments dropped). */
export function dockerStages(): DockerStage[] {
  const text = readFileSync(resolve(REPO_ROOT, "app/Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const stages: DockerStage[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [op = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op.toUpperCase() === "FROM")
      stages.push({
        name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length),
        base: args.split(/\s+/).find((a) => !a.startsWith("--")) ?? "",
        instrs: [],
      });
    else stages[stages.length - 1]?.instrs.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/**
 * Compose's interpolation: $$ escapes, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}.
 * Throws like `docker compose config` does when a required variable is missing.
 */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, name?: string, op?: string, arg?: string, bare?: string) => {
      if (m === "$$") return "$";
      const key = (name ?? bare) as string;
      const v = env[key];
      const unset = op?.startsWith(":") ? !v : v === undefined;
      if (op?.endsWith("?") && unset) throw new Error(`required variable ${key} is missing a value: ${arg}`);
      if (op?.endsWith("-") && unset) return arg ?? "";
      return v ?? "";
    },
  );
}

export function interpolateAll(node: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof node === "string") return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env));
  if (node && typeof node === "object")
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env)]));
  return node;
}

export interface ServerPod {
  pod: K8sObject;
  container: K8sObject;
  /** The ConfigMap the container takes its environment from. */
  config: Record<string, string>;
}

/** The chart's server pod (release `zephyr`) rendered with these values: pod spec, app container, configuration. */
export async function renderServerPod(valuesFiles: string[], set: string[]): Promise<ServerPod> {
  const rendered = await render(valuesFiles, set);
  const pod = rendered.get("Deployment", "zephyr").spec.template.spec as K8sObject;
  const container = (pod.containers as K8sObject[]).find((c) => c.name === "zephyr") as K8sObject;
  return {
    pod,
    container,
    config: { ...(rendered.get("ConfigMap", "zephyr").data as Record<string, string>) },
  };
}

/**
 * HTTP from a given local source address, the way a client on another host reaches a proxy that routes by client
 * address (nginx's ip_hash). One connection per request: a pooled one could leave from another address.
 */
export function httpFrom(
  url: string,
  from: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = request(
      url,
      {
        method: init.method ?? (data ? "POST" : "GET"),
        localAddress: from,
        agent: false,
        timeout: 20_000,
        headers: { ...(data ? { "content-type": "application/json" } : {}), ...init.headers },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text so the assertion shows it
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url} from ${from}: no answer in 20 s`)));
    req.on("error", reject);
    req.end(data);
  });
}
