import type { ChildProcess } from "node:child_process";

/**
 * Every process the harness starts is registered here, so nothing outlives it: not on success, an error, a
 * signal, or the deadline.
 */

const children = new Set<ChildProcess>();
const hooks: Array<() => Promise<void> | void> = [];

export function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** Work after the children are killed (services, temporary files), run in registration order. */
export function onCleanup(fn: () => Promise<void> | void): void {
  hooks.push(fn);
}

function killChildren() {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
}

export async function cleanup(): Promise<void> {
  killChildren();
  for (const fn of hooks) await fn();
}

export function stopEverythingOnExit(deadlineMs: number): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      void cleanup().finally(() => process.exit(130));
    });
  }
  // "exit" handlers cannot wait, so services are left to the paths above; children at least die with us.
  process.on("exit", killChildren);
  const deadline = setTimeout(() => {
    console.error(`bench: deadline of ${deadlineMs} ms exceeded, stopping everything`);
    void cleanup().finally(() => process.exit(3));
  }, deadlineMs);
  deadline.unref();
}
