/**
 * The GitHub Actions workflows in .github/workflows: actionlint (with shellcheck on every `run:` script) finds
 * nothing, and the release workflow does what a release must: both platforms, provenance and SBOM, cosign signatures
 * by digest, and a chart with the image's version pinned to the image's digest. GitHub runs the workflow only on a
 * tag; its packaging step (.ci/package-chart.sh) is run for real here and, against a real registry and control plane,
 * in chart/test/controlplane/lifecycle.test.ts.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BIN, REPO_ROOT } from "./paths.js";
import { scratchDir } from "./scratch.js";
import { requireTool } from "./tools.js";

const run = promisify(execFile);
const hint =
  "run `bash .ci/setup` (its 43-actionlint.sh step installs actionlint into bin/ and Debian's shellcheck)";
const actionlint = requireTool("actionlint", [join(BIN, "actionlint")], hint);
const shellcheck = requireTool("shellcheck", ["/usr/bin/shellcheck"], hint);
const helm = requireTool("helm", [join(BIN, "helm")], "run `bash .ci/setup`, which builds it into bin/");

const WORKFLOWS = join(REPO_ROOT, ".github/workflows");
const workflowFiles = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(WORKFLOWS, f));
const RELEASE = join(WORKFLOWS, "release.yml");

interface Finding {
  message: string;
  filepath: string;
  line: number;
  column: number;
  kind: string;
}

/** actionlint's findings for the given files; it exits 1 when there are any, which is not an error here. */
async function lint(files: string[]): Promise<Finding[]> {
  const args = ["-format", "{{json .}}", "-shellcheck", shellcheck as string, ...files];
  const out = await run(actionlint as string, args, { cwd: REPO_ROOT }).catch((e) => {
    if (e.code !== 1) throw e;
    return e as { stdout: string };
  });
  return JSON.parse(out.stdout || "[]") as Finding[];
}

type Step = {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: any;
  env?: Record<string, string>;
};
const release = parse(readFileSync(RELEASE, "utf8"));
const job = release.jobs.release as { permissions: Record<string, string>; steps: Step[] };
const stepUsing = (action: string) => {
  const s = job.steps.find((x) => x.uses?.startsWith(`${action}@`));
  if (!s) throw new Error(`no step uses ${action}`);
  return s;
};
const stepRunning = (text: string) => {
  const s = job.steps.find((x) => x.run?.includes(text));
  if (!s) throw new Error(`no step runs ${text}`);
  return s;
};
const indexOf = (s: Step) => job.steps.indexOf(s);
/** A GitHub expression as the workflow writes it. */
const gh = (expression: string) => `\${{ ${expression} }}`;

describe.skipIf(!actionlint || !shellcheck)("actionlint on .github/workflows", () => {
  it("finds nothing in any workflow", async () => {
    expect(workflowFiles.map((f) => f.slice(WORKFLOWS.length + 1)).sort()).toEqual(["ci.yml", "release.yml"]);
    const findings = await lint(workflowFiles);
    expect(findings.map((f) => `${f.filepath}:${f.line}:${f.column} [${f.kind}] ${f.message}`)).toEqual([]);
  });

  it("would catch a broken expression and an unquoted variable in a run: script (the lint is live)", async () => {
    const bad = join(scratchDir("workflows"), "bad.yml");
    writeFileSync(
      bad,
      [
        "on: push",
        "jobs:",
        "  x:",
        "    runs-on: ubuntu-24.04",
        "    steps:",
        `      - run: echo ${gh("steps.nothing.outputs.digest")}`,
        "      - run: rm -rf $DIR/*",
        "",
      ].join("\n"),
    );
    const kinds = new Set((await lint([bad])).map((f) => f.kind));
    expect(kinds).toContain("expression");
    expect(kinds).toContain("shellcheck");
  });
});

describe("release workflow", () => {
  it("runs on version tags only, with no default token permissions and only what signing and pushing need", () => {
    expect(release.on).toEqual({ push: { tags: ["v*"] } });
    expect(release.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: "read", packages: "write", "id-token": "write" });
  });

  it("pins every action by full commit SHA with the version as a comment", () => {
    const text = readFileSync(RELEASE, "utf8");
    const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThanOrEqual(6);
    for (const [, ref, rest] of uses) {
      expect(ref, ref).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      expect(rest, ref).toMatch(/^\s+# v\d+\.\d+\.\d+$/);
    }
  });

  it("builds the Dockerfile's runtime target for amd64 and arm64 with provenance and an SBOM, and pushes it", () => {
    const build = stepUsing("docker/build-push-action");
    expect(build.id).toBe("build");
    expect(build.with).toMatchObject({
      context: ".",
      file: "app/Dockerfile",
      target: "runtime",
      push: true,
      provenance: "mode=max",
      sbom: true,
    });
    expect(String(build.with.platforms).split(",").sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(build.with.tags).toBe(`${gh("steps.names.outputs.image")}:${gh("steps.names.outputs.version")}`);
    expect(readFileSync(join(REPO_ROOT, "app/Dockerfile"), "utf8")).toMatch(/^FROM \S+ AS runtime$/m);
    // Emulation and a multi-platform builder come first, or the arm64 half cannot be built on an amd64 runner.
    expect(indexOf(stepUsing("docker/setup-qemu-action"))).toBeLessThan(indexOf(build));
    expect(indexOf(stepUsing("docker/setup-buildx-action"))).toBeLessThan(indexOf(build));
    expect(indexOf(stepUsing("docker/login-action"))).toBeLessThan(indexOf(build));
  });

  it("signs the image by the digest the build pushed, before the chart that names it is published", () => {
    const sign = stepRunning("cosign sign");
    expect(sign.run?.trim()).toBe('cosign sign --yes "$IMAGE@$DIGEST"');
    expect(sign.env).toEqual({
      IMAGE: gh("steps.names.outputs.image"),
      DIGEST: gh("steps.build.outputs.digest"),
    });
    expect(indexOf(stepUsing("sigstore/cosign-installer"))).toBeLessThan(indexOf(sign));
    expect(indexOf(sign)).toBeLessThan(indexOf(stepRunning("helm push")));
  });

  it("packages the chart with the image's version and digest, pushes it with helm push and signs it by digest", () => {
    const chart = stepRunning("helm push");
    expect(chart.env).toMatchObject({
      VERSION: gh("steps.names.outputs.version"),
      IMAGE: gh("steps.names.outputs.image"),
      DIGEST: gh("steps.build.outputs.digest"),
      CHARTS: gh("steps.names.outputs.charts"),
    });
    const script = chart.run ?? "";
    expect(script).toContain(
      'bash .ci/package-chart.sh --version "$VERSION" --repository "$IMAGE" --digest "$DIGEST"',
    );
    expect(script).toMatch(/bin\/helm push "\$chart" "\$CHARTS"/);
    expect(script).toContain(`cosign sign --yes "\${CHARTS#oci://}/zephyr@$chart_digest"`);
    // The helm that packages is the pinned one the tests use.
    expect(indexOf(stepRunning(".ci/setup.d/40-helm.sh"))).toBeLessThan(indexOf(chart));
  });

  it("derives one version and lower-case ghcr.io names from the tag, and refuses a tag that is not SemVer", async () => {
    const step = job.steps.find((s) => s.id === "names");
    if (!step?.run) throw new Error("no names step");
    const dir = scratchDir("workflows");
    const names = async (tag: string) => {
      const out = join(dir, `output-${tag}`);
      writeFileSync(out, "");
      const env = {
        PATH: process.env.PATH,
        GITHUB_REF_NAME: tag,
        GITHUB_REPOSITORY_OWNER: "Acme-Corp",
        GITHUB_OUTPUT: out,
      };
      // GitHub runs `shell: bash` as bash --noprofile --norc -eo pipefail.
      const r = await run("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run as string], {
        env,
      }).then(
        () => 0,
        (e) => e.code as number,
      );
      return {
        code: r,
        outputs: Object.fromEntries(
          readFileSync(out, "utf8")
            .trim()
            .split("\n")
            .map((l) => l.split("=")),
        ),
      };
    };
    expect(await names("v1.2.3")).toEqual({
      code: 0,
      outputs: {
        version: "1.2.3",
        image: "ghcr.io/acme-corp/zephyr",
        charts: "oci://ghcr.io/acme-corp/charts",
      },
    });
    expect((await names("v2.0.0-rc.1")).outputs.version).toBe("2.0.0-rc.1");
    expect((await names("v1.2")).code).toBe(1);
    expect((await names("vnext")).code).toBe(1);
  });
});

describe.skipIf(!helm)(".ci/package-chart.sh, the release's chart packaging", () => {
  const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
  const pkg = (args: string[]) =>
    run("bash", [".ci/package-chart.sh", ...args], { cwd: REPO_ROOT, env: { ...process.env, HELM: helm } });

  it("sets version and appVersion to the release version and pins the image by digest in the packaged values", async () => {
    const dir = scratchDir("package-chart");
    const { stdout } = await pkg([
      "--version",
      "1.2.3",
      "--repository",
      "ghcr.io/acme/zephyr",
      "--digest",
      digest,
      "--destination",
      dir,
    ]);
    const tgz = stdout.trim();
    expect(tgz).toBe(join(dir, "zephyr-1.2.3.tgz"));
    const show = async (what: string) => (await run(helm as string, ["show", what, tgz])).stdout;
    expect(parse(await show("chart"))).toMatchObject({
      name: "zephyr",
      version: "1.2.3",
      appVersion: "1.2.3",
    });
    const values = await show("values");
    expect(parse(values).image).toEqual({
      repository: "ghcr.io/acme/zephyr",
      tag: "",
      digest,
      pullPolicy: "IfNotPresent",
    });
    // The @param lines survive: `helm show values` is the packaged chart's reference.
    expect(values).toContain("## @param image.digest");
    const rendered = await run(helm as string, [
      "template",
      "z",
      tgz,
      "-f",
      join(REPO_ROOT, "chart/ci/minimal-values.yaml"),
    ]);
    const images = [...rendered.stdout.matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1]);
    expect(new Set(images)).toEqual(new Set([`ghcr.io/acme/zephyr@${digest}`]));
  });

  it("refuses a digest that is not sha256 and a missing version", async () => {
    const refused = (args: string[]) =>
      pkg(args).then(
        () => "",
        (e) => e.stderr as string,
      );
    expect(await refused(["--version", "1.2.3", "--repository", "r/z", "--digest", "latest"])).toMatch(
      /--digest must be sha256/,
    );
    expect(await refused(["--repository", "r/z", "--digest", digest])).toMatch(
      /--version, --repository and --digest are required/,
    );
  });
});
