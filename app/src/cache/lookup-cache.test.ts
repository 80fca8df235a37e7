import { describe, expect, it, vi } from "vitest";
import { createLookupCache } from "./lookup-cache.js";

describe("lookup cache", () => {
  it("reuses a value within the TTL, reloads after it, and forgets on demand", async () => {
    vi.useFakeTimers();
    try {
      const cache = createLookupCache<string>({ ttlMs: 1000 });
      const load = vi.fn(async () => "poll-1");
      await cache.get("K7QX2M", load);
      await cache.get("K7QX2M", load);
      expect(load).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1001);
      await cache.get("K7QX2M", load);
      expect(load).toHaveBeenCalledTimes(2);
      cache.forget("K7QX2M");
      await cache.get("K7QX2M", load);
      expect(load).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("never caches a miss, so a poll created on another instance is found at once", async () => {
    const cache = createLookupCache<string>({ ttlMs: 60_000 });
    expect(await cache.get("NEW123", async () => undefined)).toBeUndefined();
    expect(await cache.get("NEW123", async () => "created-elsewhere")).toBe("created-elsewhere");
  });

  it("loads once for concurrent callers and stays within maxEntries", async () => {
    const cache = createLookupCache<number>({ ttlMs: 60_000, maxEntries: 3 });
    let loads = 0;
    const slow = () => new Promise<number>((r) => setTimeout(() => r(++loads), 10));
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.get("A", slow)));
    expect(new Set(values)).toEqual(new Set([1]));
    for (const k of ["B", "C", "D"]) await cache.get(k, async () => 0);
    // A is the oldest entry and was evicted to make room for D.
    expect(await cache.get("A", async () => 99)).toBe(99);
  });

  it("passes every call through when turned off (ttlMs 0)", async () => {
    const cache = createLookupCache<number>({ ttlMs: 0 });
    let n = 0;
    await cache.get("A", async () => ++n);
    await cache.get("A", async () => ++n);
    expect(n).toBe(2);
  });
});
