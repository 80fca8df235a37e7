import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../test/paths.js";
import { freePort } from "../../../test/services.js";
import { waitFor } from "../../../test/zephyr.js";
import { dockerStages, type Json, readYaml } from "./support.js";

/**
 * The skaffold dev loop without a cluster: app/Dockerfile's `dev` target replayed in a temp directory standing in
 * for the image's WORKDIR (its build-context COPYs, its Node.js RUN steps; the dependency install is the repo's
 * node_modules, which image-build.test.ts covers, and apt/chown are OS-level), its ENTRYPOINT started with the
 * chart's args, then one source file written where skaffold's sync rule puts it. The new code must be running
 * shortly after, without a rebuild.
 */

const exec = promisify(execFile);
const stages = dockerStages();
const byName = new Map(stages.map((s) => [s.name, s]));
const chain: typeof stages = [];
for (let s = byName.get("dev"); s; s = byName.get(s.base)) chain.unshift(s);
const skaffold = readYaml("skaffold.yaml");
const devProfile = (skaffold.profiles as Json[]).find((p) => p.name === "dev") as Json;
const syncRules = devProfile.build.artifacts[0].sync.manual as Array<{
  src: string;
  dest: string;
  strip?: string;
}>;

/** Where skaffold's sync puts an edited repo file in the container: the first rule whose glob base holds it. */
function syncedPath(rel: string): string {
  const rule = syncRules.find((r) => rel.startsWith(r.src.replace(/\*\*$/, "")));
  if (!rule) throw new Error(`no sync rule for ${rel}`);
  const stripped = rule.strip && rel.startsWith(rule.strip) ? rel.slice(rule.strip.length) : rel;
  return posix.join(rule.dest, stripped);
}

const root = mkdtempSync(join(tmpdir(), "zephyr-dev-image-"));
let workdir = "/";
/** A container path inside the replayed image (everything under WORKDIR maps into `root`). */
const local = (containerPath: string) =>
  join(root, posix.relative(workdir, posix.resolve(workdir, containerPath)));
let child: ChildProcess | undefined;
let out = "";

afterAll(() => {
  // The entry point is a shell running tsc and node: end the whole process group.
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

describe("dev image: synced sources are recompiled and the server restarted", () => {
  it("replays the dev target, starts its entry point and reloads an edited source file", async () => {
    symlinkSync(resolve(REPO_ROOT, "node_modules"), join(root, "node_modules"), "dir");
    for (const stage of chain)
      for (const { op, args } of stage.instrs) {
        if (op === "WORKDIR") workdir = posix.resolve(workdir, args);
        if (op === "COPY" && !args.includes("--from=")) {
          const paths = args.split(/\s+/).filter((p) => !p.startsWith("--"));
          const dest = paths.pop() as string;
          for (const src of paths) {
            const target = dest.endsWith("/") ? join(local(dest), posix.basename(src)) : local(dest);
            mkdirSync(dirname(target), { recursive: true });
            cpSync(resolve(REPO_ROOT, src), target, { recursive: true });
          }
        }
        if (op === "RUN" && stage.name === "dev")
          for (const step of args.split("&&").map((s) => s.trim()))
            if (/^node\s/.test(step)) await exec("sh", ["-c", step], { cwd: root });
      }
    expect(workdir).toBe("/app");

    const dev = chain[chain.length - 1] as (typeof stages)[number];
    const json = (op: string) => JSON.parse(dev.instrs.find((i) => i.op === op)?.args ?? "[]") as string[];
    const entrypoint = json("ENTRYPOINT");
    expect(entrypoint.slice(0, 2)).toEqual(["/usr/bin/tini", "--"]);
    // The chart passes args ["app/dist/main.js"], replacing CMD.
    expect(json("CMD")).toEqual(["app/dist/main.js"]);
    const port = await freePort();
    child = spawn(entrypoint[2] as string, [...entrypoint.slice(3), "app/dist/main.js"], {
      cwd: root,
      detached: true,
      // As the dev profile configures the pods: no drain on each restart.
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: "127.0.0.1",
        SHUTDOWN_DELAY_MS: "0",
        DRAIN_WINDOW_MS: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    const live = async () => (await fetch(`http://127.0.0.1:${port}/api/health/live`)).status === 200;
    await waitFor(live, { timeoutMs: 60_000, what: "dev server" });
    await waitFor(async () => out.includes("Watching for file changes"), {
      timeoutMs: 60_000,
      what: "tsc --watch",
    });
    // The build info from the image build lets the watcher start without re-emitting, so no restart yet.
    expect(out, out).not.toMatch(/Restarting/);
    expect(out).toContain("Found 0 errors");

    // What skaffold's sync rule does with an edited app/src/main.ts: the same path under its dest.
    const marker = `hot-reload-${Date.now().toString(36)}`;
    appendFileSync(local(syncedPath("app/src/main.ts")), `\nconsole.log("${marker}");\n`);
    await waitFor(async () => out.includes(marker), {
      timeoutMs: 60_000,
      what: "a restart running the edited file",
    });
    expect(out).toMatch(/Restarting/);
    await waitFor(live, { timeoutMs: 60_000, what: "dev server after the restart" });

    // An edited page source: vite build --watch rebuilds the pages, and the next load of the page shows the edit.
    const restarts = out.split("Restarting").length;
    const catalogue = local(syncedPath("app/web/src/i18n/en.ts"));
    const pageMarker = `page-reload-${Date.now().toString(36)}`;
    writeFileSync(
      catalogue,
      readFileSync(catalogue, "utf8").replace("Live polls for talks, classes and meetings", pageMarker),
    );
    await waitFor(
      async () => {
        const html = await (await fetch(`http://127.0.0.1:${port}/`)).text();
        const entry = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
        return (
          entry !== undefined &&
          (await (await fetch(`http://127.0.0.1:${port}${entry}`)).text()).includes(pageMarker)
        );
      },
      { timeoutMs: 60_000, what: "the page rebuilt with the edit" },
    );
    expect(out.split("Restarting").length, "a page edit does not restart the server").toBe(restarts);
  }, 240_000);
});
