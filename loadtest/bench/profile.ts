import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KEEP_PROFILES, REPO } from "./options.js";
import { onCleanup } from "./processes.js";

/**
 * Profiled instances sample every PROFILE_INTERVAL_US: at V8's default 1 ms the profiler itself cost 15-30 %
 * of the CPU per HTTP request here, which would depress Zephyr's figures next to unprofiled baselines.
 */
const PROFILE_INTERVAL_US = 10_000;

const profDir = KEEP_PROFILES ?? join(REPO, ".tmp", `bench-prof-${process.pid}`);
if (!KEEP_PROFILES) onCleanup(() => rmSync(profDir, { recursive: true, force: true }));

export const profileDirOf = (name: string): string => join(profDir, name);

export function profilerFlags(name: string): string[] {
  return ["--cpu-prof", `--cpu-prof-interval=${PROFILE_INTERVAL_US}`, `--cpu-prof-dir=${profileDirOf(name)}`];
}

export interface TopFn {
  fn: string;
  selfPct: number;
}

/** The hottest functions by self time, as a share of the non-idle samples of the profile in dir. */
export function topFunctions(dir: string, n = 8): TopFn[] {
  if (!existsSync(dir)) return [];
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) return [];
  const prof = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
    nodes: Array<{
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
      hitCount?: number;
    }>;
  };
  const by = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    const cf = node.callFrame;
    if (cf.functionName === "(idle)") continue;
    total += hits;
    const where = cf.url
      ? `${cf.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/app\//, "app/")}:${cf.lineNumber + 1}`
      : "";
    const key = `${cf.functionName || "(anonymous)"} ${where}`.trim();
    by.set(key, (by.get(key) ?? 0) + hits);
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, hits]) => ({ fn, selfPct: Math.round((1000 * hits) / Math.max(1, total)) / 10 }));
}
