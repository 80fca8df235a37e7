/**
 * The client address for rate limits, for every transport. X-Forwarded-For is attacker-controlled except for
 * the entries our own proxies appended, so with N trusted hops the client is the N-th entry from the right,
 * never the left-most.
 */
export function clientAddress(
  forwardedFor: string | string[] | undefined,
  peer: string | undefined,
  trustedHops: number,
): string {
  const fallback = peer ?? "unknown";
  if (trustedHops <= 0 || !forwardedFor) return fallback;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return hops[Math.max(0, hops.length - trustedHops)] ?? fallback;
}
