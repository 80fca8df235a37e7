import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  helm,
  helmRun,
  KUBE_VERSION,
  parseManifests,
  requireKubernetesValidate,
  templateArgs,
} from "../../test/helm.js";
import { BIN, CHART, REPO_ROOT } from "../../test/paths.js";
import { requireTool, skipOrFail } from "../../test/tools.js";
import { ciValues } from "./support.js";

const run = promisify(execFile);

const kubernetesValidate = requireKubernetesValidate();
const hint = "run `bash .ci/setup`, whose 42-httproute-validate.sh builds it into bin/ with the CRD";
const HTTPROUTE_CRD = join(REPO_ROOT, ".cache/gateway-api/httproutes.yaml");
/** httproute-validate and the Gateway API CRD it checks against, installed together. */
const httpRouteValidate = existsSync(HTTPROUTE_CRD)
  ? requireTool("httproute-validate", [join(BIN, "httproute-validate")], hint)
  : skipOrFail(`the HTTPRoute CRD ${HTTPROUTE_CRD} that httproute-validate checks against is missing`, hint);

async function exec(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : 1,
      out: (err.stdout ?? "") + (err.stderr ?? ""),
    };
  }
}

// The floor Chart.yaml's kubeVersion promises: features newer than this (e.g. the preStop sleep action) stay out.
const MIN_KUBE_VERSION = `${/kubeVersion:\s*">=(\d+\.\d+)/.exec(readFileSync(join(CHART, "Chart.yaml"), "utf8"))?.[1]}.0`;

const REQUIRED_CI = [
  "minimal",
  "ingress",
  "gateway",
  "hpa-off",
  "existing-secret",
  "dev-bundled",
  "monitoring-on",
  "keda",
];

// Kinds kubernetes-validate has no schema for, each checked against its CRD elsewhere: the HTTPRoute by
// httproute-validate below, ServiceMonitor and PrometheusRule by monitoring.test.ts, ScaledObject by keda.test.ts.
const CRD_KINDS: Record<string, string> = {
  httproute: "kind HTTPRoute with api version gateway.networking.k8s.io/v1",
  servicemonitor: "kind ServiceMonitor with api version monitoring.coreos.com/v1",
  prometheusrule: "kind PrometheusRule with api version monitoring.coreos.com/v1",
  scaledobject: "kind ScaledObject with api version keda.sh/v1alpha1",
};

describe.skipIf(!helm)("helm lint --strict", () => {
  it("has at least the required ci values files", () => {
    expect(Object.keys(ciValues)).toEqual(expect.arrayContaining(REQUIRED_CI));
  });

  it.each([["default", ""], ...Object.entries(ciValues)])("passes with %s values", async (_name, file) => {
    const r = await helmRun([
      "lint",
      "--strict",
      "--kube-version",
      KUBE_VERSION,
      CHART,
      ...(file ? ["-f", file] : []),
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it("refuses to render the bare defaults, which configure no PostgreSQL (the app would silently use in-memory PGlite)", async () => {
    const r = await helmRun(templateArgs([]));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("zephyr: no PostgreSQL configured");
  });
});

describe.skipIf(!helm || !kubernetesValidate)(
  `rendered manifests validate strictly (Kubernetes ${KUBE_VERSION})`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "zephyr-chart-validate-"));
    const files: Record<string, string> = {};
    const kinds: Record<string, string[]> = {};
    let kv: { code: number; out: string };
    let kvMin: { code: number; out: string };

    beforeAll(async () => {
      await Promise.all(
        Object.entries(ciValues).map(async ([name, values]) => {
          const r = await helmRun(templateArgs([values]));
          if (r.code !== 0) throw new Error(`helm template ${name}: ${r.stderr}`);
          files[name] = join(dir, `${name}.yaml`);
          writeFileSync(files[name] as string, r.stdout);
          kinds[name] = parseManifests(r.stdout).map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}`);
        }),
      );
      // One process for all files: the validator's start-up dominates its run time.
      const validateAt = (v: string) =>
        exec(kubernetesValidate as string, ["--strict", "-k", v, ...Object.values(files)]);
      [kv, kvMin] = await Promise.all([validateAt(KUBE_VERSION), validateAt(MIN_KUBE_VERSION)]);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each(Object.keys(ciValues))(
      "%s: every built-in object passes kubernetes-validate --strict",
      (name) => {
        const file = files[name] as string;
        const lines = kv.out.split("\n").filter((l) => l.includes(`${file} `));
        expect(
          lines.filter((l) => l.startsWith("ERROR")),
          kv.out,
        ).toEqual([]);
        const crdKinds = (kinds[name] as string[]).filter((k) => (k.split("/")[0] ?? "") in CRD_KINDS);
        const unknown = lines.filter((l) => l.startsWith("WARN"));
        expect(unknown.length).toBe(crdKinds.length);
        for (const w of unknown)
          expect(
            Object.values(CRD_KINDS).some((k) => w.includes(k)),
            w,
          ).toBe(true);
        const passed = lines.filter((l) => l.startsWith("INFO") && l.includes("passed"));
        const builtIn = (kinds[name] as string[]).filter((k) => !crdKinds.includes(k));
        expect(passed.length).toBe(builtIn.length);
        expect(builtIn.length).toBeGreaterThan(5);
      },
    );

    it("kubernetes-validate exits 0 overall", () => {
      expect(kv.code, kv.out).toBe(0);
    });

    it(`every values file also validates against the oldest supported Kubernetes (${MIN_KUBE_VERSION}, Chart.yaml kubeVersion)`, () => {
      expect(kvMin.code, kvMin.out).toBe(0);
      expect(kvMin.out).not.toMatch(/^ERROR/m);
      expect(kvMin.out).toContain(`against version ${MIN_KUBE_VERSION.replace(/\.0$/, "")}`);
    });

    it("kubernetes-validate really rejects an unknown field in a rendered Deployment (the check can fail)", async () => {
      const objs = parseManifests(
        await import("node:fs").then((fs) => fs.readFileSync(files.minimal as string, "utf8")),
      );
      const dep = objs.find((o) => o.kind === "Deployment");
      dep!.spec.template.spec.containers[0].readinessProbe.httpGet.bogusField = "x";
      const f = join(dir, "bogus.yaml");
      writeFileSync(f, stringify(dep));
      const r = await exec(kubernetesValidate as string, ["--strict", "-k", KUBE_VERSION, f]);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/ERROR.*bogusField/);
    });

    it.skipIf(!httpRouteValidate)(
      "gateway: the HTTPRoute passes the Gateway API CRD schema, its CEL rules and strict field validation",
      async () => {
        const r = await exec(httpRouteValidate as string, ["-crd", HTTPROUTE_CRD, files.gateway as string]);
        expect(r.code, r.out).toBe(0);
        expect(r.out).toContain("HTTPRoute objects checked: 1, problems: 0");
      },
    );

    it.skipIf(!httpRouteValidate)(
      "httproute-validate really rejects an unknown field and a schema violation (the check can fail)",
      async () => {
        const objs = parseManifests(
          await import("node:fs").then((fs) => fs.readFileSync(files.gateway as string, "utf8")),
        );
        const route = objs.find((o) => o.kind === "HTTPRoute")!;
        route.spec.rules[0].bogusField = true;
        route.spec.rules[0].matches[0].path.type = "Glob";
        const f = join(dir, "bogus-route.yaml");
        writeFileSync(f, stringify(route));
        const r = await exec(httpRouteValidate as string, ["-crd", HTTPROUTE_CRD, f]);
        expect(r.code).toBe(1);
        expect(r.out).toContain("bogusField");
        expect(r.out).toContain("Glob");
      },
    );
  },
);
