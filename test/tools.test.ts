import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./paths.js";

/**
 * The missing-tool convention itself. CI and ZEPHYR_HIDE_TOOLS are read at import, so each case imports the kit
 * in a fresh process with its own environment.
 */

async function kit(
  env: Record<string, string>,
  expr: string,
): Promise<{ ok: boolean; out: string; err: string }> {
  const script = `
    const { requireTool } = await import("./test/tools.ts");
    const { requireServices } = await import("./test/services.ts");
    const { requireShared } = await import("./test/shared.ts");
    console.log(JSON.stringify(${expr}) ?? "undefined");`;
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { cwd: REPO_ROOT, env: { ...process.env, CI: "", ...env } },
    );
    return { ok: true, out: stdout.trim(), err: stderr };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    return { ok: false, out: (x.stdout ?? "").trim(), err: x.stderr ?? "" };
  }
}

const hideHelm = { ZEPHYR_HIDE_TOOLS: "helm" };
const noShared = { ZEPHYR_SHARED_DIR: "/nonexistent/shared" };

describe("missing tools, services and shared files", () => {
  it("on a laptop: `SKIPPING: …` and undefined (false for services), so the caller skips", async () => {
    const tool = await kit(hideHelm, 'requireTool("helm", ["bin/helm"], "how to install")');
    expect(tool).toMatchObject({ ok: true, out: "undefined" });
    expect(tool.err).toContain("SKIPPING: required tool 'helm' not found (how to install)");
    const services = await kit({ ZEPHYR_HIDE_TOOLS: "redis-server" }, 'requireServices("redis")');
    expect(services).toMatchObject({ ok: true, out: "false" });
    expect(services.err).toContain("SKIPPING: required services not installed: redis");
    const shared = await kit(noShared, 'requireShared("schemas/crds/k6.io_testruns.yaml")');
    expect(shared).toMatchObject({ ok: true, out: "undefined" });
    expect(shared.err).toMatch(
      /SKIPPING: schemas\/crds\/k6\.io_testruns\.yaml not found in \/nonexistent\/shared/,
    );
  });

  it("under CI=true: the same calls throw, so the test file fails", async () => {
    for (const [env, expr] of [
      [hideHelm, 'requireTool("helm")'],
      [{ ZEPHYR_HIDE_TOOLS: "initdb" }, 'requireServices("postgres")'],
      [noShared, 'requireShared("schemas/crds/k6.io_testruns.yaml")'],
    ] as const) {
      const r = await kit({ ...env, CI: "true" }, expr);
      expect(r.ok, expr).toBe(false);
      expect(r.err, expr).toMatch(/Error: (required tool 'helm'|required services|schemas\/crds)/);
      expect(r.err, expr).not.toContain("SKIPPING");
    }
  });

  it("finds what is there, and only ZEPHYR_HIDE_TOOLS hides it", async () => {
    expect((await kit({}, 'requireTool("node")')).out).toMatch(/node"$/);
    expect((await kit({ ZEPHYR_HIDE_TOOLS: "sh,node" }, 'requireTool("node")')).out).toBe("undefined");
  });
});
