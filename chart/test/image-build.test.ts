import { type ChildProcess, exec as execCb, execSync, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../test/paths.js";
import { freePort } from "../../test/services.js";
import { dockerRuntime } from "./support.js";

/**
 * The production image build, replayed outside Docker (CI has no daemon): every stage of app/Dockerfile is
 * interpreted in its own temp directory, COPY by COPY and RUN by RUN, so the test follows the Dockerfile instead
 * of repeating it. The final stage's OS-level RUN (apt: tini, user) is the one thing not replayed. Then the
 * assembled runtime tree, with production dependencies only, is made read-only and the entry point is started.
 */

const exec = promisify(execCb);
const DOCKERFILE = join(REPO_ROOT, "app/Dockerfile");

interface Instr {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  base: string;
  instrs: Instr[];
}

function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op === "FROM")
      stages.push({
        name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length),
        base: args.split(/\s+/).find((a) => !a.startsWith("--")) ?? "",
        instrs: [],
      });
    else stages[stages.length - 1]?.instrs.push({ op: op as string, args });
  }
  return stages;
}

/**
 * The stages the default (last) target is built from, through FROM <stage> and COPY --from=<stage>: other targets in
 * the file (the skaffold `dev` target) are not part of the production image, and BuildKit does not build them for it.
 */
function productionStages(all: Stage[]): Stage[] {
  const byName = new Map(all.map((s) => [s.name, s]));
  const needed = new Set<string>();
  const visit = (s: Stage) => {
    if (needed.has(s.name)) return;
    needed.add(s.name);
    const deps = [
      s.base,
      ...s.instrs.flatMap((i) => (i.op === "COPY" ? [/--from=(\S+)/.exec(i.args)?.[1] ?? ""] : [])),
    ];
    for (const d of deps) {
      const dep = byName.get(d);
      if (dep) visit(dep);
    }
  };
  visit(all[all.length - 1] as Stage);
  return all.filter((s) => needed.has(s.name));
}

const root = mkdtempSync(join(tmpdir(), "zephyr-image-"));
const allStages = parseDockerfile(readFileSync(DOCKERFILE, "utf8"));
const stages = productionStages(allStages);
const final = stages[stages.length - 1] as Stage;
const stageDir = (name: string) => join(root, name);
const log: string[] = [];

/** /app-relative path inside a stage directory (WORKDIR is /app in every stage). */
function inStage(stage: string, p: string): string {
  return join(stageDir(stage), p.replace(/^\/app\/?/, "").replace(/^\.\/?/, ""));
}

async function runStage(stage: Stage, replayRuns: boolean) {
  mkdirSync(stageDir(stage.name), { recursive: true });
  for (const { op, args } of stage.instrs) {
    if (op === "WORKDIR") expect(args, "the replay maps WORKDIR /app onto the stage directory").toBe("/app");
    if (op === "COPY") {
      const parts = args.split(/\s+/);
      const from = parts.find((p) => p.startsWith("--from="))?.slice(7);
      const paths = parts.filter((p) => !p.startsWith("--"));
      const dest = paths.pop() as string;
      for (const src of paths) {
        const source = from ? inStage(from, src) : join(REPO_ROOT, src);
        // Docker semantics: a destination ending in "/" is a directory receiving the source by its base name.
        const target = dest.endsWith("/")
          ? join(inStage(stage.name, dest), basename(src))
          : inStage(stage.name, dest);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(source, target, { recursive: true });
      }
    }
    if (op === "RUN" && replayRuns) {
      const cmd = args.replace(/--mount=\S+\s*/g, "");
      const t = Date.now();
      const { stdout, stderr } = await exec(cmd, {
        cwd: stageDir(stage.name),
        // The host's npm cache plays the role of the BuildKit cache mount.
        env: {
          ...process.env,
          npm_config_prefer_offline: "true",
          npm_config_update_notifier: "false",
          NODE_ENV: "",
        },
        maxBuffer: 16 * 1024 * 1024,
      });
      log.push(`[${stage.name}] ${cmd} (${Date.now() - t} ms)\n${stdout}${stderr}`);
    }
  }
}

let child: ChildProcess | undefined;

describe("production image build, replayed outside Docker", () => {
  beforeAll(async () => {
    const builders = stages.slice(0, -1);
    // Independent stages build in parallel, as BuildKit does.
    await Promise.all(builders.map((s) => runStage(s, true)));
    await runStage(final, false);
    // Read-only like readOnlyRootFilesystem; as root (CI) the app runs as the image's USER, which root's
    // bypass of file modes would otherwise hide.
    chmodSync(root, 0o755);
    await exec(`chmod -R a-w ${JSON.stringify(stageDir(final.name))}`);
  }, 300_000);

  afterAll(() => {
    child?.kill("SIGKILL");
    if (existsSync(root)) {
      chmodSync(root, 0o755);
      if (existsSync(stageDir(final.name))) execSync(`chmod -R u+w ${JSON.stringify(stageDir(final.name))}`);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("the Dockerfile has separate build, production-dependency and runtime stages, non-root numeric user, no HEALTHCHECK", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "prod-deps", "runtime"]);
    const user = final.instrs.find((i) => i.op === "USER")?.args;
    expect(user).toMatch(/^[1-9][0-9]*:[1-9][0-9]*$/);
    expect(final.instrs.some((i) => i.op === "HEALTHCHECK")).toBe(false);
    expect(dockerRuntime().entrypoint.slice(0, 2)).toEqual(["/usr/bin/tini", "--"]);
  });

  it("every build-context COPY source is let through by .dockerignore", () => {
    const allowed = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("!"))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ""));
    const sources = allStages.flatMap((s) =>
      s.instrs
        .filter((i) => i.op === "COPY" && !i.args.includes("--from="))
        .flatMap((i) =>
          i.args
            .split(/\s+/)
            .filter((p) => !p.startsWith("--"))
            .slice(0, -1),
        ),
    );
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) expect(allowed, s).toContain(s);
  });

  it("the runtime tree has the compiled entry point and production dependencies only", () => {
    const rt = stageDir(final.name);
    expect(existsSync(join(rt, "app/dist/main.js"))).toBe(true);
    expect(existsSync(join(rt, "app/dist/web/index.html")), "the web app is built into the image").toBe(true);
    expect(existsSync(join(rt, "app/src")), "sources stay out of the image").toBe(false);
    expect(existsSync(join(rt, "app/web")), "page sources stay out of the image").toBe(false);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    for (const dep of Object.keys(pkg.dependencies))
      expect(existsSync(join(rt, "node_modules", dep)), dep).toBe(true);
    // Dev-only per the lockfile (a devDependency may also be a production transitive dependency, e.g. @types/node).
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(
      ([p, meta]) => p.startsWith("node_modules/") && meta.dev === true,
    );
    expect(devOnly.length).toBeGreaterThan(10);
    expect(devOnly.map(([p]) => p).filter((p) => existsSync(join(rt, p)))).toEqual([]);
    for (const tool of ["typescript", "vitest", "@biomejs/biome"])
      expect(existsSync(join(rt, "node_modules", tool)), tool).toBe(false);
  });

  it("the entry point starts from the read-only tree, answers /api/health/live and exits 0 on SIGTERM", async () => {
    const rt = stageDir(final.name);
    const image = dockerRuntime();
    const argv = [...image.entrypoint, ...image.cmd].filter(
      (a, i, all) => !(a.endsWith("/tini") || (a === "--" && all[i - 1]?.endsWith("/tini"))),
    );
    expect(argv[0]).toBe("node");
    const port = await freePort();
    // No PostgreSQL/Redis: the embedded in-memory fallback, which must not need a writable disk either.
    child = spawn(process.execPath, argv.slice(1), {
      cwd: rt,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...image.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        SHUTDOWN_DELAY_MS: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
      ...(process.getuid?.() === 0 ? (image.user ?? {}) : {}),
    });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((res) => child?.once("exit", (code) => res(code)));
    // Generous: the embedded database initialises in a few seconds, far longer on a machine busy with other suites.
    const deadline = Date.now() + 90_000;
    let status = 0;
    while (Date.now() < deadline && child.exitCode === null) {
      status = await fetch(`http://127.0.0.1:${port}/api/health/live`)
        .then((r) => r.status)
        .catch(() => 0);
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status, `${out}\n${log.join("\n")}`).toBe(200);
    child.kill("SIGTERM");
    expect(await exited, out).toBe(0);
  }, 150_000);
});
