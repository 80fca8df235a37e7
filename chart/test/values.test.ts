import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { helm, helmRun, templateArgs } from "../../test/helm.js";
import { CHART } from "../../test/paths.js";
import { ciValues } from "./support.js";

const valuesText = readFileSync(join(CHART, "values.yaml"), "utf8");
const values = parse(valuesText) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8"));

describe("values.yaml documentation and schema", () => {
  it("values.schema.json is generated from chart/test/schema-gen.mjs and up to date", () => {
    expect(() =>
      execFileSync(process.execPath, [join(CHART, "test/schema-gen.mjs"), "--check"], { stdio: "pipe" }),
    ).not.toThrow();
  });

  it("every value has a `## @param` line and every @param names a real value", () => {
    const params = [...valuesText.matchAll(/^\s*## @param ([\w.]+) \S/gm)].map((m) => m[1] as string);
    const paramSet = new Set(params);
    expect(params.length).toBe(paramSet.size);
    // A documented object (resources, behavior, …) covers its children.
    const undocumented: string[] = [];
    const walk = (obj: unknown, path: string[]) => {
      if (path.length && paramSet.has(path.join("."))) return;
      if (obj && typeof obj === "object" && !Array.isArray(obj) && Object.keys(obj).length) {
        for (const [k, v] of Object.entries(obj)) walk(v, [...path, k]);
      } else undocumented.push(path.join("."));
    };
    walk(values, []);
    expect(undocumented).toEqual([]);
    const get = (p: string) =>
      p
        .split(".")
        .reduce<unknown>(
          (o, k) =>
            o && typeof o === "object" && k in o ? (o as Record<string, unknown>)[k] : Symbol.for("missing"),
          values,
        );
    expect(params.filter((p) => get(p) === Symbol.for("missing"))).toEqual([]);
  });

  it("default values and every ci values file satisfy the schema (checked by ajv as well as by helm)", () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
    for (const [name, file] of Object.entries(ciValues)) {
      const merged = { ...values, ...(parse(readFileSync(file, "utf8")) as object) };
      expect(validate(merged), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("the schema is closed at the top level and in the nested blocks users type by hand", () => {
    expect(schema.additionalProperties).toBe(false);
    for (const k of [
      "image",
      "config",
      "database",
      "redis",
      "secrets",
      "existingSecret",
      "service",
      "ingress",
      "autoscaling",
      "shutdown",
      "migrations",
    ]) {
      expect(schema.properties[k].additionalProperties, k).toBe(false);
    }
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(values).sort());
  });
});

describe.skipIf(!helm)("helm refuses bad values with a readable message", () => {
  const dir = mkdtempSync(join(tmpdir(), "zephyr-chart-values-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const minimal = ciValues.minimal as string;
  const withValues = async (name: string, content: string) => {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, content);
    return helmRun(templateArgs([minimal, f]));
  };

  it("an unknown top-level key (a typo) is rejected, naming the key", async () => {
    const r = await withValues("typo", "replicaCounts: 3\n");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toMatch(/additional properties 'replicaCounts' not allowed/);
  });

  it("a wrong type is rejected, naming the value and the expected type", async () => {
    const r = await withValues("type", 'config:\n  port: "4000"\nautoscaling:\n  enabled: "yes"\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/config\/port.*\n?.*want integer/);
    expect(r.stderr).toMatch(/autoscaling\/enabled.*\n?.*want boolean/);
  });

  it("an unknown nested key and an out-of-range port are rejected", async () => {
    const r = await withValues("nested", "service:\n  affinity: ClientIP\nconfig:\n  port: 70000\n");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/additional properties 'affinity' not allowed/);
    expect(r.stderr).toMatch(/config\/port/);
  });

  it("an unknown autoscaling engine and a Prometheus address without scheme are rejected by the schema", async () => {
    const r = await withValues(
      "engine",
      "autoscaling:\n  engine: KEDA\n  keda:\n    prometheusServerAddress: prometheus:9090\n",
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("at '/autoscaling/engine': value must be one of 'hpa', 'keda'");
    expect(r.stderr).toMatch(/autoscaling\/keda\/prometheusServerAddress.*does not match pattern/);
  });

  it("a malformed DATABASE_URL is rejected by the schema", async () => {
    const r = await withValues("url", "secrets:\n  databaseUrl: mysql://x@y/z\n");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/secrets\/databaseUrl/);
  });

  it.each([
    [
      "existingSecret together with inline secrets",
      "existingSecret:\n  name: creds\n",
      "set either existingSecret.name or secrets.* values, not both",
    ],
    [
      "DATABASE_URL together with database.host",
      "database:\n  host: db\n",
      "set secrets.databaseUrl or database.host",
    ],
    ["REDIS_URL together with redis.host", "redis:\n  host: r\n", "set secrets.redisUrl or redis.host"],
    [
      "a grace period shorter than preStop + shutdown",
      "shutdown:\n  terminationGracePeriodSeconds: 10\n",
      "is below preStop sleep + app shutdown timeout",
    ],
    [
      "a shutdown timeout shorter than delay + drain window",
      "shutdown:\n  delayMs: 5000\n  drainWindowMs: 15000\n  timeoutMs: 20000\n",
      "must exceed shutdown.delayMs + shutdown.drainWindowMs",
    ],
    [
      "an ingress timeout below the Socket.IO heartbeat",
      "ingress:\n  enabled: true\n  websocketTimeoutSeconds: 60\nconfig:\n  socket:\n    pingIntervalMs: 50000\n    pingTimeoutMs: 20000\n",
      "ingress.websocketTimeoutSeconds must exceed",
    ],
    [
      "the bundled dev database with the hook Job",
      'secrets:\n  databaseUrl: ""\ndev:\n  postgresql:\n    enabled: true\n',
      "needs migrations.mode=startup",
    ],
    [
      "KEDA without the Prometheus its triggers query",
      "autoscaling:\n  engine: keda\n",
      "zephyr: autoscaling.engine=keda needs autoscaling.keda.prometheusServerAddress",
    ],
    [
      "KEDA authModes without the TriggerAuthentication holding the credentials",
      "autoscaling:\n  engine: keda\n  keda:\n    prometheusServerAddress: http://prometheus:9090\n    authModes: bearer\n",
      "zephyr: autoscaling.keda.authModes needs autoscaling.keda.authenticationRef.name",
    ],
    [
      "an HTTPRoute without a Gateway",
      "httpRoute:\n  enabled: true\n",
      "needs at least one httpRoute.parentRefs",
    ],
  ])("fails on %s", async (_what, content, message) => {
    const r = await withValues(_what.replace(/\W+/g, "-"), content);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it("fails when nothing configures PostgreSQL (no URL, no host, no existing Secret)", async () => {
    const f = join(dir, "empty.yaml");
    writeFileSync(f, "secrets:\n  redisUrl: redis://r:6379\n");
    const r = await helmRun(templateArgs([f]));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no PostgreSQL configured");
  });
});
