import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crdValidator, requireCrdDir } from "../../../test/crd.js";
import {
  helm,
  helmRun,
  type K8sObject,
  KUBE_VERSION,
  parseManifests,
  requireKubernetesValidate,
} from "../../../test/helm.js";
import { REPO_ROOT } from "../../../test/paths.js";
import { dockerStages, type Json, readYaml, requireSchema, validator } from "./support.js";

/**
 * skaffold.yaml checked without a cluster or the skaffold binary: against skaffold's own schema, every path it
 * names, and for each profile the chart rendered by helm with exactly the values skaffold would pass
 * (image templates filled as skaffold fills them), validated like any other chart render.
 */

const run = promisify(execFile);
const schema = requireSchema("skaffold/v4beta14.json");
const kubernetesValidate = requireKubernetesValidate();
/** The Prometheus Operator CRDs the prod-like profile's objects are validated against. */
const MONITORING_CRDS = {
  ServiceMonitor: "monitoring.coreos.com_servicemonitors.yaml",
  PrometheusRule: "monitoring.coreos.com_prometheusrules.yaml",
  PodMonitor: "monitoring.coreos.com_podmonitors.yaml",
} as const;
const crdDir = requireCrdDir(Object.values(MONITORING_CRDS));
const skaffold = readYaml("skaffold.yaml");

const SAMPLE = {
  IMAGE_REPO_zephyr: "registry.example.com/team/zephyr",
  IMAGE_TAG_zephyr: "0995cac-dirty",
  IMAGE_DIGEST_zephyr: `sha256:${"4f".repeat(32)}`,
};

/** skaffold's Go templates, limited to the {{.VAR}} form this file uses; anything else fails loudly. */
function fillTemplate(value: string, vars: Record<string, string>): string {
  const out = value.replace(/\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`unknown template variable ${name} in ${value}`);
    return v;
  });
  if (out.includes("{{")) throw new Error(`unsupported template syntax in ${value}`);
  return out;
}

interface Effective {
  profile: string;
  artifact: Json;
  release: Json;
}

/**
 * The configuration a profile produces. skaffold overlays a profile field by field and a list it sets replaces
 * the base list wholesale, so build.artifacts and deploy.helm.releases come entirely from the profile when it has
 * them. Patches are not used here; the test refuses them rather than silently ignoring them.
 */
function effective(profileName?: string): Effective {
  const profile = profileName ? (skaffold.profiles as Json[]).find((p) => p.name === profileName) : undefined;
  if (profileName && !profile) throw new Error(`no profile ${profileName}`);
  if (profile?.patches) throw new Error("profile patches are not modelled by this test");
  const artifacts = (profile?.build?.artifacts ?? skaffold.build.artifacts) as Json[];
  const releases = (profile?.deploy?.helm?.releases ?? skaffold.deploy.helm.releases) as Json[];
  expect(artifacts).toHaveLength(1);
  expect(releases).toHaveLength(1);
  return { profile: profileName ?? "(none)", artifact: artifacts[0] as Json, release: releases[0] as Json };
}

const PROFILES = [undefined, ...((skaffold.profiles ?? []) as Json[]).map((p) => p.name as string)];

/** The helm arguments skaffold derives from a release: values files, then setValues, then setValueTemplates. */
function helmArgs(release: Json): string[] {
  const sets = Object.entries((release.setValues ?? {}) as Record<string, unknown>).map(
    ([k, v]) => `${k}=${String(v)}`,
  );
  const templates = Object.entries((release.setValueTemplates ?? {}) as Record<string, string>).map(
    ([k, v]) => `${k}=${fillTemplate(String(v), SAMPLE)}`,
  );
  return [
    release.name as string,
    resolve(REPO_ROOT, release.chartPath as string),
    "--namespace",
    "zephyr",
    "--kube-version",
    KUBE_VERSION,
    ...((release.valuesFiles ?? []) as string[]).flatMap((f) => ["-f", resolve(REPO_ROOT, f)]),
    ...[...sets, ...templates].flatMap((s) => ["--set", s]),
  ];
}

/** Files under a directory matching a skaffold sync glob (`**` any depth, `*` within a segment), repo-relative. */
function globFiles(pattern: string): string[] {
  const base = pattern
    .split("/")
    .filter((seg, i, all) => !/[*?[]/.test(seg) && all.slice(0, i).every((s) => !/[*?[]/.test(s)));
  const root = resolve(REPO_ROOT, ...base);
  const re = new RegExp(
    `^${pattern
      .split("**")
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*"))
      .join(".*")}$`,
  );
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (re.test(relative(REPO_ROOT, p))) out.push(relative(REPO_ROOT, p));
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

describe("skaffold.yaml", () => {
  it.skipIf(!schema)("validates against the skaffold/v4beta14 schema, which rejects a broken copy", () => {
    const validate = validator(schema as Json);
    expect(skaffold.apiVersion).toBe("skaffold/v4beta14");
    expect(skaffold.kind).toBe("Config");
    expect(validate(skaffold)).toEqual([]);
    // The same file with one typo in a release and one in a sync rule: proof the validator constrains the
    // nested objects that matter, not just the top level.
    const broken = structuredClone(skaffold);
    const dev = (broken.profiles as Json[]).find((p) => p.name === "dev") as Json;
    dev.deploy.helm.releases[0].setValue = dev.deploy.helm.releases[0].setValues;
    dev.build.artifacts[0].sync.manual[0].destination = "/app";
    const errors = validate(broken).join("\n");
    const devIndex = (broken.profiles as Json[]).indexOf(dev);
    expect(errors).toContain(
      `/profiles/${devIndex}/deploy/helm/releases/0: must NOT have additional properties (setValue)`,
    );
    expect(errors).toContain(
      `/profiles/${devIndex}/build/artifacts/0/sync/manual/0: must NOT have additional properties (destination)`,
    );
    expect(validate({ ...skaffold, deploys: {} }).join("\n")).toContain("(deploys)");
  });

  it("names only paths that exist: build context, Dockerfile and its target, chart, values files, sync sources", () => {
    const stageNames = dockerStages().map((s) => s.name);
    for (const profile of PROFILES) {
      const { artifact, release } = effective(profile);
      const context = resolve(REPO_ROOT, artifact.context ?? ".");
      expect(statSync(context).isDirectory(), profile).toBe(true);
      expect(existsSync(resolve(context, artifact.docker.dockerfile)), profile).toBe(true);
      expect(stageNames, `${profile}: docker target`).toContain(artifact.docker.target);
      expect(existsSync(resolve(REPO_ROOT, release.chartPath, "Chart.yaml")), profile).toBe(true);
      for (const f of (release.valuesFiles ?? []) as string[])
        expect(existsSync(resolve(REPO_ROOT, f)), f).toBe(true);
      for (const rule of (artifact.sync?.manual ?? []) as Json[])
        expect(globFiles(rule.src).length, `${profile}: sync ${rule.src} matches files`).toBeGreaterThan(10);
    }
  });

  it("the default target of app/Dockerfile stays the production image; only the dev profile builds `dev`", () => {
    const stages = dockerStages();
    expect(stages[stages.length - 1]?.name).toBe("runtime");
    for (const profile of PROFILES)
      expect(effective(profile).artifact.docker.target, String(profile)).toBe(
        profile === "dev" ? "dev" : "runtime",
      );
  });

  it("the dev profile is what `skaffold dev` activates, and only it syncs files", () => {
    const dev = (skaffold.profiles as Json[]).find((p) => p.name === "dev") as Json;
    expect(dev.activation).toEqual([{ command: "dev" }]);
    for (const profile of PROFILES)
      expect(Boolean(effective(profile).artifact.sync), String(profile)).toBe(profile === "dev");
  });

  describe("file sync lands where the dev image keeps, compiles and runs the sources", () => {
    const stages = dockerStages();
    const byName = new Map(stages.map((s) => [s.name, s]));
    // The dev stage and the stages it is built FROM, oldest first: the files it inherits.
    const chain: typeof stages = [];
    for (let s = byName.get("dev"); s; s = byName.get(s.base)) chain.unshift(s);
    const devStage = chain[chain.length - 1];

    /** Where a repo file ends up in the dev image, following WORKDIR and build-context COPY instructions. */
    function imagePath(repoFile: string): string | undefined {
      let workdir = "/";
      let found: string | undefined;
      for (const stage of chain)
        for (const { op, args } of stage.instrs) {
          if (op === "WORKDIR") workdir = posix.resolve(workdir, args);
          if (op !== "COPY" || args.includes("--from=")) continue;
          const paths = args.split(/\s+/).filter((p) => !p.startsWith("--"));
          const dest = paths.pop() as string;
          for (const src of paths) {
            const target = posix.resolve(workdir, dest);
            if (repoFile === src)
              found = dest.endsWith("/") ? posix.join(target, posix.basename(src)) : target;
            else if (repoFile.startsWith(`${src}/`))
              found = posix.join(target, repoFile.slice(src.length + 1));
          }
        }
      return found;
    }

    const workdirOf = () => {
      let w = "/";
      for (const s of chain) for (const i of s.instrs) if (i.op === "WORKDIR") w = posix.resolve(w, i.args);
      return w;
    };

    it("the dev stage exists and builds on the stage that copies the sources", () => {
      expect(devStage?.name).toBe("dev");
      expect(chain.length).toBeGreaterThan(1);
      expect(imagePath("app/src/main.ts")).toBe("/app/app/src/main.ts");
    });

    it("every synced file's destination is exactly where the image has that file", () => {
      const rules = (effective("dev").artifact.sync.manual ?? []) as Json[];
      expect(rules.length).toBeGreaterThan(0);
      let checked = 0;
      for (const rule of rules) {
        for (const file of globFiles(rule.src)) {
          const rel = rule.strip && file.startsWith(rule.strip) ? file.slice(rule.strip.length) : file;
          // A relative dest is resolved against the image's WORKDIR.
          const dest = posix.resolve(workdirOf(), rule.dest, rel);
          const inImage = imagePath(file);
          // Files the image does not have (tests, excluded by .dockerignore) are harmless extras, not mismatches.
          if (file.endsWith(".test.ts")) continue;
          expect(dest, file).toBe(inImage);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(20);
    });

    it.skipIf(!helm)(
      "the watcher compiles the synced directory into the script the chart starts, as the user who owns them",
      async () => {
        const entry = (devStage?.instrs ?? []).find((i) => i.op === "ENTRYPOINT")?.args ?? "[]";
        const script = (JSON.parse(entry) as string[]).join(" ");
        const project = /tsc -p (\S+)/.exec(script)?.[1] as string;
        expect(script).toContain("--watch");
        expect(script).toMatch(/node --watch/);
        const tsconfig = JSON.parse(readFileSync(resolve(REPO_ROOT, project), "utf8")) as Json;
        const projectDir = posix.resolve(workdirOf(), posix.dirname(project));
        const rule = (effective("dev").artifact.sync.manual as Json[])[0] as Json;
        expect(posix.resolve(projectDir, tsconfig.compilerOptions.rootDir)).toBe(
          posix.resolve(workdirOf(), rule.dest),
        );
        // The Deployment's args name the compiled entry point inside the compiler's outDir.
        const r = await helmRun(["template", ...helmArgs(effective("dev").release)]);
        expect(r.code, r.stderr).toBe(0);
        const deploy = parseManifests(r.stdout).find(
          (o) => o.kind === "Deployment" && o.metadata.name === "zephyr",
        );
        const args = deploy?.spec.template.spec.containers[0].args as string[];
        expect(posix.resolve(workdirOf(), args[0] as string)).toBe(
          posix.join(posix.resolve(projectDir, tsconfig.compilerOptions.outDir), "main.js"),
        );
        // Sync (kubectl exec tar) and the compiler write as the pod's user: it must own sources and output.
        const user = /^(\d+):(\d+)$/.exec((devStage?.instrs ?? []).find((i) => i.op === "USER")?.args ?? "");
        const runAsUser = deploy?.spec.template.spec.containers[0].securityContext.runAsUser;
        expect(Number(user?.[1])).toBe(runAsUser);
        const chown = (devStage?.instrs ?? [])
          .map((i) => /chown -R (\d+):\d+ ([^&]+)/.exec(i.args))
          .find(Boolean);
        expect(Number(chown?.[1])).toBe(runAsUser);
        expect(chown?.[2]?.trim().split(/\s+/)).toEqual(
          expect.arrayContaining([posix.dirname(project) === "." ? "src" : `${posix.dirname(project)}/src`]),
        );
      },
    );
  });

  describe.skipIf(!helm || !kubernetesValidate)(
    "each profile renders with helm and validates strictly",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "zephyr-skaffold-"));
      const rendered: Record<string, K8sObject[]> = {};
      const files: Record<string, string> = {};
      const lint: Record<string, { code: number; out: string }> = {};
      let kv = { code: -1, out: "" };
      const key = (p: string | undefined) => p ?? "default";

      beforeAll(async () => {
        await Promise.all(
          PROFILES.map(async (p) => {
            const args = helmArgs(effective(p).release);
            const [t, l] = await Promise.all([
              helmRun(["template", ...args]),
              helmRun(["lint", "--strict", ...args.slice(1)]),
            ]);
            if (t.code !== 0) throw new Error(`helm template (${key(p)}):\n${t.stderr}`);
            lint[key(p)] = { code: l.code, out: l.stdout + l.stderr };
            rendered[key(p)] = parseManifests(t.stdout);
            files[key(p)] = join(dir, `${key(p)}.yaml`);
            writeFileSync(files[key(p)] as string, t.stdout);
          }),
        );
        try {
          const r = await run(
            kubernetesValidate as string,
            ["--strict", "-k", KUBE_VERSION, ...Object.values(files)],
            { maxBuffer: 32 * 1024 * 1024 },
          );
          kv = { code: 0, out: r.stdout + r.stderr };
        } catch (e) {
          const err = e as { code?: number; stdout?: string; stderr?: string };
          kv = { code: err.code ?? 1, out: (err.stdout ?? "") + (err.stderr ?? "") };
        }
      }, 90_000);
      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      const get = (p: string | undefined, kind: string, name = "zephyr") =>
        rendered[key(p)]?.find((o) => o.kind === kind && o.metadata.name === name);

      it.each(PROFILES.map((p) => [key(p), p]))(
        "%s: helm lint --strict passes (values schema included)",
        (name) => {
          expect(lint[name]?.code, lint[name]?.out).toBe(0);
          expect(lint[name]?.out).not.toMatch(/\[(WARNING|ERROR)\]/);
        },
      );

      it("kubernetes-validate --strict passes every built-in object of every profile", () => {
        expect(kv.code, kv.out).toBe(0);
        expect(kv.out).not.toMatch(/^ERROR/m);
        for (const p of PROFILES) {
          const builtIn = (rendered[key(p)] ?? []).filter(
            (o) => !o.apiVersion.includes("monitoring.coreos.com"),
          );
          const passed = kv.out
            .split("\n")
            .filter((l) => l.includes(`${files[key(p)]} `) && /^INFO.*passed/.test(l));
          expect(passed.length, `${key(p)}\n${kv.out}`).toBe(builtIn.length);
          // Anything kubernetes-validate could not check must be a CRD kind checked below.
          for (const w of kv.out
            .split("\n")
            .filter((l) => l.includes(`${files[key(p)]} `) && l.startsWith("WARN")))
            expect(w).toMatch(/monitoring\.coreos\.com/);
        }
      });

      it.skipIf(!crdDir)(
        "Prometheus Operator objects (prod-like monitoring) validate against their CRDs",
        () => {
          const crds = MONITORING_CRDS;
          const crs = PROFILES.flatMap((p) =>
            (rendered[key(p)] ?? []).filter((o) => o.apiVersion.startsWith("monitoring.coreos.com/")),
          );
          expect(crs.map((o) => o.kind)).toEqual(
            expect.arrayContaining(["ServiceMonitor", "PrometheusRule"]),
          );
          for (const o of crs) {
            const file = crds[o.kind as keyof typeof crds];
            expect(file, `no CRD known for ${o.kind}`).toBeDefined();
            expect(
              crdValidator(join(crdDir as string, file)).validate(o),
              `${o.kind}/${o.metadata.name}`,
            ).toEqual([]);
          }
        },
      );

      it.each(PROFILES.map((p) => [key(p), p]))(
        "%s: the built image is what the pods run, by digest",
        (_n, p) => {
          const containers = [
            ...(get(p, "Deployment")?.spec.template.spec.containers ?? []),
            ...(rendered[key(p)] ?? [])
              .filter((o) => o.kind === "Job" || o.kind === "Pod")
              .flatMap((o) => (o.spec.template?.spec ?? o.spec).containers),
          ] as Array<{ image: string }>;
          const app = containers.filter((c) => c.image.includes("zephyr"));
          expect(app.length).toBeGreaterThan(0);
          for (const c of app)
            expect(c.image).toBe(`${SAMPLE.IMAGE_REPO_zephyr}@${SAMPLE.IMAGE_DIGEST_zephyr}`);
          expect(get(p, "Deployment")?.metadata.labels["app.kubernetes.io/version"]).toBe(
            SAMPLE.IMAGE_TAG_zephyr,
          );
        },
      );

      it("port-forward targets a Service port every profile renders, on localhost:4000", () => {
        const forwards = skaffold.portForward as Json[];
        expect(forwards).toEqual([expect.objectContaining({ resourceType: "service", localPort: 4000 })]);
        const pf = forwards[0] as Json;
        for (const p of PROFILES) {
          const svc = get(p, "Service", pf.resourceName);
          expect(svc, `${key(p)}: Service ${pf.resourceName}`).toBeDefined();
          const port = ((svc?.spec.ports ?? []) as Json[]).find((x) => x.port === pf.port);
          expect(port?.targetPort, key(p)).toBe("http");
        }
      });

      it("dev: 2 replicas, bundled PostgreSQL and Redis, writable root filesystem only here", () => {
        const d = get("dev", "Deployment");
        expect(d?.spec.replicas).toBe(2);
        expect(get("dev", "HorizontalPodAutoscaler")).toBeUndefined();
        expect(get("dev", "Deployment", "zephyr-postgresql")).toBeDefined();
        expect(get("dev", "Deployment", "zephyr-redis")).toBeDefined();
        expect(d?.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(false);
        for (const p of PROFILES.filter((x) => x !== "dev"))
          expect(
            get(p, "Deployment")?.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem,
            key(p),
          ).toBe(true);
        // Everything else about the security context stays as in production.
        const prodCtx = get(undefined, "Deployment")?.spec.template.spec.containers[0].securityContext;
        expect({
          ...d?.spec.template.spec.containers[0].securityContext,
          readOnlyRootFilesystem: true,
        }).toEqual(prodCtx);
      });

      it("prod-like: HPA (replicas left to it) and monitoring on", () => {
        const hpa = get("prod-like", "HorizontalPodAutoscaler");
        expect(hpa?.spec.scaleTargetRef.name).toBe("zephyr");
        expect(get("prod-like", "Deployment")?.spec.replicas).toBeUndefined();
        const sm = get("prod-like", "ServiceMonitor");
        expect(sm).toBeDefined();
        // Selected by the Prometheus of the README's kube-prometheus-stack install without further flags.
        expect(sm?.metadata.labels.release).toBe("kube-prometheus-stack");
        expect(get("prod-like", "PrometheusRule")?.metadata.labels.release).toBe("kube-prometheus-stack");
        for (const p of PROFILES.filter((x) => x !== "prod-like"))
          expect(
            (rendered[key(p)] ?? []).filter((o) => o.apiVersion.includes("monitoring.coreos.com")),
            key(p),
          ).toEqual([]);
      });
    },
  );
});
