import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** True when running in CI, where a missing tool must fail the run instead of skipping. */
export const inCI = process.env.CI === "true" || process.env.CI === "1";

/**
 * Resolves an external tool (helm, promtool, redis-server …). In CI a missing tool is an error; on a laptop
 * the caller gets `undefined` and should `describe.skipIf(!tool)` with the printed reason.
 */
export function findTool(name: string, candidates: string[] = []): string | undefined {
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function requireTool(
  name: string,
  candidates: string[] = [],
  hint = "run `make test`, which installs it",
): string | undefined {
  const found = findTool(name, candidates);
  if (found) return found;
  const msg = `required tool '${name}' not found (${hint})`;
  if (inCI) throw new Error(msg);
  console.warn(`SKIPPING: ${msg}`);
  return undefined;
}

/** promtool from Debian's prometheus package, which .ci/setup.d/10-apt.sh installs. */
export const requirePromtool = () =>
  requireTool("promtool", ["/usr/bin/promtool"], "run .ci/setup, which installs the prometheus package");
