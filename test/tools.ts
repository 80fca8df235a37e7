import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** True when running in CI, where a missing tool must fail the run instead of skipping. */
export const inCI = process.env.CI === "true" || process.env.CI === "1";

/**
 * The one convention for anything a test needs from outside the repository (a tool, a service, a file of
 * ../shared): on a laptop it prints `SKIPPING: <what> (<hint>)` and returns undefined, and the caller skips the
 * tests that need it; under CI=true it throws, so the run fails instead of silently testing less. Every
 * `require*` helper of the kit goes through here.
 */
export function skipOrFail(what: string, hint: string): undefined {
  const msg = `${what} (${hint})`;
  if (inCI) throw new Error(msg);
  console.warn(`SKIPPING: ${msg}`);
  return undefined;
}

/**
 * Tools to treat as missing, comma-separated (`ZEPHYR_HIDE_TOOLS=helm,promtool`): most are found at fixed paths
 * (bin/, /usr/bin, /usr/lib/postgresql/…), so stripping PATH does not hide them, and this is how to watch a file
 * skip (or, under CI=true, fail) without uninstalling anything. `initdb` hides PostgreSQL, `redis-server` Redis.
 */
const hidden = new Set((process.env.ZEPHYR_HIDE_TOOLS ?? "").split(",").map((t) => t.trim()));

/** Where an external tool is (the first existing candidate, else PATH), or undefined. Never skips or fails. */
export function findTool(name: string, candidates: string[] = []): string | undefined {
  if (hidden.has(name)) return undefined;
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** An external tool (helm, promtool, nginx …), or undefined after {@link skipOrFail}. */
export function requireTool(
  name: string,
  candidates: string[] = [],
  hint = "run `make test`, which installs it",
): string | undefined {
  return findTool(name, candidates) ?? skipOrFail(`required tool '${name}' not found`, hint);
}

/** promtool from Debian's prometheus package, which .ci/setup.d/10-apt.sh installs. */
export const requirePromtool = () =>
  requireTool("promtool", ["/usr/bin/promtool"], "run .ci/setup, which installs the prometheus package");
