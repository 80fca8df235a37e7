import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../../test/paths.js";
import { requireShared } from "../../test/shared.js";

/**
 * The TestRun manifests against the k6-operator CRD's structural schema, made strict: an object that lists
 * its properties accepts no others (the API server would prune them silently, so a typo would just vanish).
 */

const [CRD] = requireShared("schemas/crds/k6.io_testruns.yaml") ?? [];
const DIR = import.meta.dirname;
const SCENARIOS = readdirSync(join(REPO_ROOT, "loadtest/scenarios")).filter((f) => f.endsWith(".ts"));

function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== "object") return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === "enum" || k === "required" ? v : strict(v);
  if (
    schema.properties &&
    schema.additionalProperties === undefined &&
    !schema["x-kubernetes-preserve-unknown-fields"]
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/** The CRD's v1alpha1 schema, made strict; undefined when shared/ is missing (those tests skip). */
function crdValidator() {
  if (!CRD) return undefined;
  const crd = parse(readFileSync(CRD, "utf8"));
  const version = crd.spec.versions.find((v: any) => v.name === "v1alpha1");
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat(
    "int32",
    (n: unknown) => typeof n === "number" && Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  );
  ajv.addFormat("int64", (n: unknown) => typeof n === "number" && Number.isInteger(n));
  return { crd, validate: ajv.compile(strict(version.schema.openAPIV3Schema)) };
}
const schema = crdValidator();
const manifests = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("k6-operator TestRun manifests", () => {
  it("one TestRun per scenario", () => {
    const files = manifests.map((f) => parse(readFileSync(join(DIR, f), "utf8")).spec.script.configMap.file);
    expect(files.sort()).toEqual(SCENARIOS.map((s) => s.replace(/\.ts$/, ".tar")).sort());
  });

  it.skipIf(!schema).each(manifests)("%s validates against the strict CRD schema", (file) => {
    const { crd, validate } = schema!;
    const docs = parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((d) => d.toJS());
    expect(docs).toHaveLength(1);
    const tr = docs[0];
    expect(tr.apiVersion).toBe(`${crd.spec.group}/v1alpha1`);
    expect(tr.kind).toBe(crd.spec.names.kind);
    const ok = validate(tr);
    expect(validate.errors ?? [], file).toEqual([]);
    expect(ok).toBe(true);
    expect(tr.spec.parallelism).toBeGreaterThanOrEqual(1);
    expect(tr.spec.runner.image).toMatch(/^grafana\/k6:(1\.([6-9]|\d{2,})|[2-9])\./);
    const env = Object.fromEntries(tr.spec.runner.env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ BASE_URL: expect.stringMatching(/^http/), PROFILE: expect.any(String) });
  });

  it.skipIf(!schema)("the strict schema rejects a misspelt field (the check above can fail)", () => {
    const { validate } = schema!;
    const tr = parse(readFileSync(join(DIR, manifests[0]!), "utf8"));
    tr.spec.runner.enviroment = [];
    expect(validate(tr)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/additionalProperties/);
    const bad = parse(readFileSync(join(DIR, manifests[0]!), "utf8"));
    bad.spec.parallelism = "4";
    expect(validate(bad)).toBe(false);
  });
});
