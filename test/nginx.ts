import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTool, requireTool } from "./tools.js";
import { waitFor } from "./zephyr.js";

/** Debian's nginx (.ci/setup.d/10-apt.sh), or undefined after the kit's skip-or-fail. */
export const requireNginx = () =>
  requireTool("nginx", ["/usr/sbin/nginx"], "installed by .ci/setup.d/10-apt.sh");
const nginxPath = () => findTool("nginx", ["/usr/sbin/nginx"]) as string;
const isRoot = process.getuid?.() === 0;

export interface Nginx {
  url: string;
  port: number;
  dir: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function nginxArgs(dir: string): string[] {
  // Global directives the image's command line supplies (daemon) or that must stay in the temp dir (pid).
  return ["-p", `${dir}/`, "-c", join(dir, "nginx.conf"), "-g", `daemon off; pid ${join(dir, "nginx.pid")};`];
}

/** nginx with `conf` (listening on 127.0.0.1:<port>) in a temp directory, once /api/health/live answers through it. */
export async function startNginx(conf: string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), "zephyr-nginx-"));
  // As root (CI) nginx workers drop to the unprivileged default user, which must reach the temp directories.
  if (isRoot) chmodSync(dir, 0o755);
  const port = Number(/listen 127\.0\.0\.1:(\d+);/.exec(conf)?.[1]);
  writeFileSync(join(dir, "nginx.conf"), conf);
  // stdout/stderr go to a file: nginx opens /dev/stdout for its access log, which fails on the socket pairs
  // Node uses for piped stdio (in a container it is a pipe or a file).
  const logFile = join(dir, "output.log");
  const fd = openSync(logFile, "a");
  const output = () => readFileSync(logFile, "utf8");
  const check = spawnSync(nginxPath(), ["-t", ...nginxArgs(dir)], { stdio: ["ignore", fd, fd] });
  if (check.status !== 0) throw new Error(`nginx -t failed:\n${output()}`);
  const child = spawn(nginxPath(), nginxArgs(dir), { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/api/health/live`)).status === 200, {
    what: `nginx on ${port}\n${output()}`,
  });
  return {
    url,
    port,
    dir,
    child,
    output,
    async stop() {
      // Fast shutdown: a graceful one (SIGQUIT) would wait for proxied long-polls and WebSockets to end.
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
