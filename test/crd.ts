import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import * as ajvFormats from "ajv-formats";
import { parse } from "yaml";
import { requireShared, SHARED_DIR } from "./shared.js";

/** CRD schemas shared between the projects (shared/schemas/crds). */
export const CRD_DIR = join(SHARED_DIR, "schemas/crds");

/** The CRD directory when every named CRD file is there, or undefined after skipOrFail (see tools.ts). */
export function requireCrdDir(files: string[]): string | undefined {
  return requireShared(...files.map((f) => `schemas/crds/${f}`)) && CRD_DIR;
}

type Schema = Record<string, any>;

// The API server validates metadata itself (the CRD schema says only `type: object`); this is the part of
// ObjectMeta the chart writes, with the API server's rules for names, label keys and label values.
const labelKey =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
const objectMeta: Schema = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" },
    namespace: { type: "string", maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
    labels: {
      type: "object",
      propertyNames: { pattern: labelKey, maxLength: 317 },
      additionalProperties: {
        type: "string",
        maxLength: 63,
        pattern: "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
      },
    },
    annotations: {
      type: "object",
      propertyNames: { pattern: labelKey },
      additionalProperties: { type: "string" },
    },
  },
};

/**
 * The openAPIV3Schema as the API server applies it to a create with strict field validation: an object schema
 * with `properties` and no x-kubernetes-preserve-unknown-fields rejects unknown fields (structural pruning would
 * drop them silently, so a typo would never take effect), `set` lists have unique items and `map` lists unique
 * keys; CEL rules go to the x-kubernetes-validations keyword (CEL_RULES). Extensions this does not know make ajv's
 * strict mode throw instead of being ignored.
 */
function strictify(node: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "properties") {
      out.properties = Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, strictify(s)]));
    } else if (k === "items" || k === "additionalProperties") {
      out[k] = typeof v === "object" ? strictify(v as Schema) : v;
    } else if (k === "anyOf" || k === "allOf" || k === "oneOf") {
      out[k] = (v as Schema[]).map(strictify);
    } else if (k === "not") {
      out[k] = strictify(v as Schema);
    } else if (k === "nullable") {
      if (v === true) out.nullable = true; // ajv implements OpenAPI's nullable (needs a type next to it)
    } else if (k === "x-kubernetes-list-type") {
      if (v === "set") out.uniqueItems = true;
      // "map" is checked through x-kubernetes-list-map-keys; "atomic" only affects merging.
    } else if (
      k === "x-kubernetes-int-or-string" || // always comes with anyOf [integer, string]
      k === "x-kubernetes-map-type" || // merge strategy only
      k === "x-kubernetes-preserve-unknown-fields"
    ) {
      // consumed below or merge-only
    } else {
      out[k] = v;
    }
  }
  if (node.properties && !node["x-kubernetes-preserve-unknown-fields"] && !("additionalProperties" in node))
    out.additionalProperties = false;
  return out;
}

/**
 * The API server's patterns are Go (RE2) regular expressions. The CRDs use one construct JavaScript lacks, a
 * leading (?i); any other Go-only syntax makes RegExp throw, so nothing is silently mistranslated.
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string) =>
    pattern.startsWith("^(?i)")
      ? new RegExp(`^${pattern.slice(5)}`, `${flags}i`)
      : pattern.startsWith("(?i)")
        ? new RegExp(pattern.slice(4), `${flags}i`)
        : new RegExp(pattern, flags),
  { code: "new RegExp" },
);

/**
 * The CEL rules (x-kubernetes-validations) of the CRDs in use, each by its exact text with what it means in
 * JavaScript. A CRD with any other rule makes crdValidator throw: a rule is never skipped unnoticed. The real API
 * server evaluates them in the control-plane tests.
 */
const CEL_RULES: Record<string, (self: Schema) => boolean> = {
  // keda.sh ScaledObject spec; 100 is KEDA's default maxReplicaCount.
  "!has(self.minReplicaCount) || self.minReplicaCount <= (has(self.maxReplicaCount) ? self.maxReplicaCount : 100)":
    (self) => self.minReplicaCount === undefined || self.minReplicaCount <= (self.maxReplicaCount ?? 100),
};

export interface CrdValidator {
  kind: string;
  apiVersion: string;
  /** Problems as "path: message" lines; empty when the object is valid. */
  validate(obj: unknown): string[];
}

export function crdValidator(file: string): CrdValidator {
  const crd = parse(readFileSync(file, "utf8")) as Schema;
  const version = (crd.spec.versions as Schema[]).find((v) => v.served && v.storage);
  if (!version) throw new Error(`${file}: no served storage version`);
  const schema = strictify(version.schema.openAPIV3Schema as Schema);
  schema.properties.metadata = objectMeta;
  const apiVersion = `${crd.spec.group}/${version.name}`;
  const kind = crd.spec.names.kind as string;
  schema.properties.apiVersion = { const: apiVersion };
  schema.properties.kind = { const: kind };
  schema.required = [...new Set([...(schema.required ?? []), "apiVersion", "kind", "metadata"])];

  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, code: { regExp: goRegExp } });
  // ajv-formats is CommonJS; under NodeNext its default export sits one level down.
  ((ajvFormats as any).default as (a: Ajv) => void)(ajv);
  ajv.addKeyword({
    keyword: "x-kubernetes-list-map-keys",
    type: "array",
    schemaType: "array",
    error: { message: "duplicate entries for the list's map keys" },
    validate: (keys: string[], data: Schema[]) => {
      const seen = new Set(data.map((item) => JSON.stringify(keys.map((k) => item?.[k]))));
      return seen.size === data.length;
    },
  });
  ajv.addKeyword({
    keyword: "x-kubernetes-validations",
    type: "object",
    schemaType: "array",
    compile: (rules: Array<{ rule: string; message?: string }>) => {
      const known = rules.map(({ rule, message }) => {
        const holds = CEL_RULES[rule];
        if (!holds) throw new Error(`${file}: CEL rule not known to test/crd.ts: ${rule}`);
        return { holds, message: message ?? `failed rule: ${rule}` };
      });
      const validate = (data: Schema): boolean => {
        const broken = known.filter((r) => !r.holds(data));
        (validate as unknown as { errors: Partial<ErrorObject>[] }).errors = broken.map((r) => ({
          keyword: "x-kubernetes-validations",
          message: r.message,
          params: {},
        }));
        return broken.length === 0;
      };
      return validate;
    },
    errors: true,
  });
  const check = ajv.compile(schema);
  const fmt = (e: ErrorObject) =>
    `${e.instancePath || "/"}: ${e.message}${
      e.params && "additionalProperty" in e.params ? ` (${e.params.additionalProperty})` : ""
    }`;
  return {
    kind,
    apiVersion,
    validate(obj) {
      return check(obj) ? [] : (check.errors ?? []).map(fmt);
    },
  };
}
