import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { helm, type K8sObject, type Rendered, render } from "../../test/helm.js";
import { REPO_ROOT } from "../../test/paths.js";
import {
  createDatabase,
  freePort,
  type RedisServer,
  requireServices,
  startRedis,
} from "../../test/services.js";
import { findTool } from "../../test/tools.js";
import { ciValues, decodeSecret, dockerRuntime } from "./support.js";

/**
 * "Pod simulation": the container exactly as the chart configures it (command from the image, args, env from the
 * ConfigMap, the Secret and the downward API, declared ports and probes), with only the external PostgreSQL/Redis
 * hosts swapped for local servers, run from a read-only working directory laid out like the image's /app.
 * The pre-install migration Job runs first, as Helm would, then the server; then the kubelet's view: probes on
 * the declared ports, SIGTERM, and an exit inside the grace period.
 */

const servicesOk = requireServices("postgres", "redis");
const POD_NAME = "zephyr-7d9f8c6b5-x2x9q";

type EnvVar = { name: string; value?: string; valueFrom?: Record<string, Record<string, unknown>> };

function resolveEnv(
  container: K8sObject,
  r: Rendered,
  swap: (name: string, value: string) => string,
): Record<string, string> {
  const env: Record<string, string> = {};
  // Kubernetes order: envFrom first, then env entries win.
  for (const src of container.envFrom ?? []) {
    if (src.configMapRef) Object.assign(env, r.get("ConfigMap", src.configMapRef.name).data);
    if (src.secretRef) Object.assign(env, decodeSecret(r.get("Secret", src.secretRef.name)));
  }
  for (const e of (container.env ?? []) as EnvVar[]) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef as { name: string; key: string; optional?: boolean };
      const v = decodeSecret(r.get("Secret", ref.name))[ref.key];
      if (v === undefined && !ref.optional)
        throw new Error(`pod would not start: secret ${ref.name} has no key ${ref.key}`);
      if (v !== undefined) env[e.name] = v;
    } else if (e.valueFrom?.fieldRef) {
      const path = (e.valueFrom.fieldRef as { fieldPath: string }).fieldPath;
      if (path !== "metadata.name") throw new Error(`unsimulated fieldRef ${path}`);
      env[e.name] = POD_NAME;
    } else throw new Error(`unsimulated env source for ${e.name}`);
  }
  for (const [k, v] of Object.entries(env)) env[k] = swap(k, v);
  return env;
}

/** The image's command line: ENTRYPOINT + (container args or CMD). tini is dropped when it is not installed here. */
function commandLine(container: K8sObject): [string, string[]] {
  const image = dockerRuntime();
  let argv = [...(container.command ?? image.entrypoint), ...(container.args ?? image.cmd)];
  if (argv[0]?.endsWith("/tini")) {
    const tini = findTool("tini");
    argv = tini ? [tini, ...argv.slice(1)] : argv.slice(argv[1] === "--" ? 2 : 1);
  }
  const [cmd, ...args] = argv;
  return [cmd === "node" ? process.execPath : (cmd as string), args];
}

/** A read-only directory shaped like the image's WORKDIR: package.json, node_modules, app/dist. */
function readOnlyWorkdir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zephyr-pod-"));
  copyFileSync(join(REPO_ROOT, "package.json"), join(dir, "package.json"));
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  mkdirSync(join(dir, "app"));
  symlinkSync(join(REPO_ROOT, "app/dist"), join(dir, "app/dist"));
  chmodSync(join(dir, "app"), 0o555);
  chmodSync(dir, 0o555);
  return dir;
}

function ensureBuilt() {
  // The global setup builds already; this keeps the file runnable on its own.
  const main = join(REPO_ROOT, "app/dist/main.js");
  const src = join(REPO_ROOT, "app/src/main.ts");
  if (!existsSync(main) || statSync(main).mtimeMs < statSync(src).mtimeMs) {
    execFileSync("npm", ["run", "--silent", "build"], { cwd: REPO_ROOT, stdio: "inherit" });
  }
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
}

/**
 * Root ignores file modes, so as root (CI) the process runs as the image's numeric USER, as in the container;
 * that is what makes the chmod 555 working directory really read-only to it.
 */
const runAs = process.getuid?.() === 0 ? dockerRuntime().user : undefined;

function start(cmd: string, args: string[], env: Record<string, string>, cwd: string): Proc {
  // A container gets only its image ENV and the pod env, nothing from this test runner's environment.
  const child = spawn(cmd, args, {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(runAs ?? {}),
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((res) =>
    child.once("exit", (code, signal) => res({ code, signal, at: Date.now() })),
  );
  return { child, out: () => out, exited };
}

async function status(url: string): Promise<number> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

describe.skipIf(!helm || !servicesOk)(
  "pod simulation: the compiled app run exactly as the chart configures it",
  () => {
    let r: Rendered;
    let deployment: K8sObject;
    let container: K8sObject;
    let redis: RedisServer;
    let databaseUrl: string;
    let cwd: string;
    let server: Proc | undefined;
    let declaredPort: number;
    const swaps: string[] = [];

    beforeAll(async () => {
      ensureBuilt();
      const sharedPg = inject("postgresUrl");
      if (!sharedPg) throw new Error("global setup started no PostgreSQL");
      [redis, databaseUrl, declaredPort] = await Promise.all([
        startRedis(),
        createDatabase(sharedPg, "chartsim"),
        freePort(),
      ]);
      // A free port as config.port, so the run cannot collide with anything else on this machine; the chart still
      // derives PORT, containerPort, probes and Service targets from that one value.
      r = await render([ciValues.minimal as string], [`config.port=${declaredPort}`]);
      deployment = r.get("Deployment", "zephyr");
      container = deployment.spec.template.spec.containers[0];
      cwd = readOnlyWorkdir();
    });

    afterAll(async () => {
      server?.child.kill("SIGKILL");
      await redis?.destroy();
      if (cwd) {
        chmodSync(join(cwd, "app"), 0o755);
        chmodSync(cwd, 0o755);
        rmSync(cwd, { recursive: true, force: true });
      }
    });

    const swap = (name: string, value: string): string => {
      const local = name === "DATABASE_URL" ? databaseUrl : name === "REDIS_URL" ? redis.url : undefined;
      if (local) {
        swaps.push(name);
        return local;
      }
      if (name === "DB_HOST" || name === "REDIS_HOST")
        throw new Error("minimal values use URLs; host swapping is not simulated");
      return value;
    };

    it("the working directory is really read-only", () => {
      if (process.getuid?.() === 0) expect(runAs, "Dockerfile USER must be numeric uid:gid").toBeDefined();
      expect(() =>
        execFileSync("touch", [join(cwd, "probe-write")], { stdio: "pipe", ...(runAs ?? {}) }),
      ).toThrow();
      expect(() =>
        execFileSync("touch", [join(cwd, "app", "probe-write")], { stdio: "pipe", ...(runAs ?? {}) }),
      ).toThrow();
    });

    it("the pre-install migration Job succeeds with its own env (hook Secret + inline config)", async () => {
      const job = r.get("Job", "zephyr-migrate");
      const jc = job.spec.template.spec.containers[0];
      const env = { ...dockerRuntime().env, ...resolveEnv(jc, r, swap) };
      expect(env.DATABASE_URL).toBe(databaseUrl);
      const [cmd, args] = commandLine(jc);
      const p = start(cmd, args, env, cwd);
      const timer = setTimeout(() => p.child.kill("SIGKILL"), 60_000);
      const res = await p.exited;
      clearTimeout(timer);
      expect(res.code, p.out()).toBe(0);
    });

    it("the server starts with the Deployment's env and every probe succeeds on its declared port", async () => {
      const env = { ...dockerRuntime().env, ...resolveEnv(container, r, swap) };
      expect(env.MIGRATE_ON_START).toBe("false");
      expect(env.INSTANCE_ID).toBe(POD_NAME);
      expect(Number(env.PORT)).toBe(declaredPort);
      expect(swaps).toContain("DATABASE_URL");
      expect(swaps).toContain("REDIS_URL");
      const [cmd, args] = commandLine(container);
      server = start(cmd, args, env, cwd);
      const ports = Object.fromEntries(
        container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
      );
      const probes = ["startupProbe", "livenessProbe", "readinessProbe"].map((k) => ({
        kind: k,
        ...container[k].httpGet,
      }));
      expect(probes).toHaveLength(3);
      const deadline = Date.now() + 30_000;
      for (const probe of probes) {
        const port = typeof probe.port === "string" ? ports[probe.port] : probe.port;
        expect(port, `${probe.kind} port ${probe.port} is declared`).toBeDefined();
        let code = 0;
        while (Date.now() < deadline && server.child.exitCode === null) {
          code = await status(`http://127.0.0.1:${port}${probe.path}`);
          if (code === 200) break;
          await new Promise((res) => setTimeout(res, 200));
        }
        expect(code, `${probe.kind} ${probe.path} on ${port}\n${server.out()}`).toBe(200);
      }
      // The Service's metrics port targets a container port that really serves /metrics.
      const svc = r.get("Service", "zephyr");
      const metrics = svc.spec.ports.find((p: { name: string }) => p.name === "metrics");
      const metricsPort = ports[metrics.targetPort] ?? metrics.targetPort;
      expect(await status(`http://127.0.0.1:${metricsPort}/metrics`)).toBe(200);
    });

    it("SIGTERM: unready at once, then exits 0 well inside terminationGracePeriodSeconds minus the preStop sleep", async () => {
      if (!server) throw new Error("server did not start");
      const spec = deployment.spec.template.spec;
      const grace = spec.terminationGracePeriodSeconds as number;
      const preStop = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
      const port = container.ports.find((p: { name: string }) => p.name === "http").containerPort;
      const sentAt = Date.now();
      server.child.kill("SIGTERM");
      // The kubelet only runs the SIGTERM part after the preStop sleep; the app has what is left of the grace period.
      const budgetMs = (grace - preStop) * 1000;
      // Signal delivery races the first request, so poll: the first answer that is not 200 must be a 503 from a
      // still-serving process (SHUTDOWN_DELAY_MS), not a refused connection.
      let ready = 200;
      while (ready === 200 && server.child.exitCode === null && Date.now() - sentAt < budgetMs) {
        ready = await status(`http://127.0.0.1:${port}/api/health/ready`);
        if (ready === 200) await new Promise((res) => setTimeout(res, 20));
      }
      const res = await Promise.race([
        server.exited,
        new Promise<null>((res) => setTimeout(() => res(null), budgetMs)),
      ]);
      expect(
        res,
        `still running ${budgetMs} ms after SIGTERM (the kubelet would SIGKILL)\n${server.out()}`,
      ).not.toBeNull();
      expect(ready, "readiness must fail as soon as draining starts").toBe(503);
      expect(res?.code, server.out()).toBe(0);
      expect((res?.at ?? 0) - sentAt).toBeLessThan(budgetMs);
    });
  },
);
