/**
 * The control plane's processes: each component in its own process group with its log in a file, so a failure
 * message can show every log's tail and stop() can signal anything a component forked.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

interface Proc {
  name: string;
  bin: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  log: string;
  exited: boolean;
  /** Stopped on purpose (a test's outage): not a component that died. */
  stopped: boolean;
}

export interface ProcessGroup {
  start(name: string, bin: string, args: string[], env?: NodeJS.ProcessEnv): void;
  /** The last lines of every component's log, for failure messages. */
  logTail(lines?: number): string;
  /** Throws, with the logs, when a component has exited. */
  alive(): void;
  /** SIGTERM to each process group, newest first; SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL to one component, as an outage would: alive() does not count it as dead. */
  kill(name: string): Promise<void>;
  /** Starts a killed component again with its original command line. */
  restart(name: string): void;
}

export function processGroup(dir: string): ProcessGroup {
  const procs: Proc[] = [];
  const logOf = (name: string) => join(dir, `${name}.log`);
  const launch = (name: string, bin: string, args: string[], env: NodeJS.ProcessEnv) => {
    const fd = openSync(logOf(name), "a");
    // Own process group, so stop() can signal anything a component forks.
    const child = spawn(bin, args, {
      cwd: dir,
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...env },
    });
    closeSync(fd);
    return child;
  };
  const watch = (p: Proc) => {
    const child = p.child;
    child.on("exit", () => {
      // A restarted component's old process must not mark the new one exited.
      if (p.child === child) p.exited = true;
    });
  };
  const byName = (name: string) => {
    const p = procs.find((x) => x.name === name);
    if (!p) throw new Error(`no component ${name}`);
    return p;
  };
  const logTail = (lines = 15) =>
    procs
      .map((p) => {
        let text = "";
        try {
          text = readFileSync(p.log, "utf8");
        } catch {
          // not written yet
        }
        return `--- ${p.name}${p.exited ? " (exited)" : ""}\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`;
      })
      .join("\n");
  return {
    logTail,
    start(name, bin, args, env = {}) {
      const p: Proc = {
        name,
        bin,
        args,
        env,
        child: launch(name, bin, args, env),
        log: logOf(name),
        exited: false,
        stopped: false,
      };
      watch(p);
      procs.push(p);
    },
    async kill(name) {
      const p = byName(name);
      p.stopped = true;
      if (p.exited || p.child.pid === undefined) return;
      const gone = new Promise((r) => p.child.once("exit", r));
      process.kill(-p.child.pid, "SIGKILL");
      await gone;
    },
    restart(name) {
      const p = byName(name);
      if (!p.exited) throw new Error(`${name} is still running`);
      p.child = launch(p.name, p.bin, p.args, p.env);
      p.exited = false;
      p.stopped = false;
      watch(p);
    },
    alive() {
      const dead = procs.find((p) => p.exited && !p.stopped);
      if (dead) throw new Error(`${dead.name} exited early:\n${logTail(30)}`);
    },
    async stop() {
      for (const p of [...procs].reverse()) {
        if (p.exited || p.child.pid === undefined) continue;
        const gone = new Promise((r) => p.child.once("exit", r));
        try {
          process.kill(-p.child.pid, "SIGTERM");
        } catch {
          continue;
        }
        const timer = setTimeout(() => {
          try {
            if (p.child.pid !== undefined) process.kill(-p.child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }, 5_000);
        await gone;
        clearTimeout(timer);
      }
    },
  };
}

/** n distinct free loopback ports: all held open at once so the kernel cannot hand the same port out twice. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((done, fail) => {
          const s = createServer();
          s.once("error", fail);
          s.listen(0, "127.0.0.1", () => done(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (!a || typeof a === "string") throw new Error("no port");
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
