import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/**
 * The client address for rate limiting. X-Forwarded-For is attacker-controlled except for the entries our own
 * proxies appended, so with N trusted hops the client is the N-th entry from the right, never the left-most.
 */
export function clientIp(c: Context, trustedHops: number): string {
  const peer = safePeer(c);
  if (trustedHops <= 0) return peer;
  const xff = c.req.header("x-forwarded-for");
  if (!xff) return peer;
  const hops = xff
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return hops[Math.max(0, hops.length - trustedHops)] ?? peer;
}

function safePeer(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
