/** Targets from the environment: BASE_URL (the Service), WS_URL (defaults to BASE_URL), INSTANCE_URLS. */

function read(name: string): string | undefined {
  const v = __ENV[name];
  return v === undefined || v === "" ? undefined : v;
}

export function envString(name: string, fallback: string): string {
  return read(name) ?? fallback;
}

export function envNumber(name: string, fallback: number): number {
  const v = read(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${v}`);
  return n;
}

export const BASE_URL = envString("BASE_URL", "http://localhost:4000").replace(/\/+$/, "");
export const WS_URL = envString("WS_URL", BASE_URL).replace(/\/+$/, "");

/**
 * Per-instance URLs (comma-separated), for scenarios that must pin sockets to different pods, e.g. the
 * headless Service's pod DNS names. Falls back to the Service alone, where cross-instance is not guaranteed.
 */
export const INSTANCE_URLS: string[] = (read("INSTANCE_URLS") ?? WS_URL)
  .split(",")
  .map((s) => s.trim().replace(/\/+$/, ""))
  .filter((s) => s !== "");

export const JSON_HEADERS = { "Content-Type": "application/json" };
