import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Memory and CPU of the processes under test, read from /proc and the servers' own endpoints. */

export const mb = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

export async function zephyrHeap(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)/m.exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

export async function bareHeap(url: string): Promise<number> {
  return ((await (await fetch(`${url}/heap`)).json()) as { heapUsed: number }).heapUsed;
}

/** CPU seconds of a process, and of the whole machine: the cheap profile next to every figure. */
export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function machineCpu(): { busy: number; total: number } {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

export type CpuUse = Record<string, number>;

/** Starts watching; the returned function gives % of one core per group of pids, and the machine's busy %. */
export function cpuWatch(pids: Record<string, number[]>): () => CpuUse {
  const start = Object.fromEntries(Object.entries(pids).map(([k, ps]) => [k, ps.map(cpuSeconds)]));
  const m0 = machineCpu();
  const t0 = performance.now();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const m1 = machineCpu();
    const out: CpuUse = {};
    for (const [k, ps] of Object.entries(pids)) {
      const used = ps.reduce((a, p, i) => a + (cpuSeconds(p) - (start[k]?.[i] ?? 0)), 0);
      out[`${k}CorePct`] = Math.round((100 * used) / wall);
    }
    out.machineBusyPct = Math.round((100 * (m1.busy - m0.busy)) / Math.max(0.01, m1.total - m0.total));
    return out;
  };
}

/** The open-file limit children inherit (`ulimit -n`); every client and server socket takes one. */
export function openFileLimit(): number {
  try {
    const v = execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
    return v === "unlimited" ? Number.POSITIVE_INFINITY : Number(v);
  } catch {
    return Number.NaN;
  }
}
