import { describe, expect, it, vi } from "vitest";
import { createResultsCache, type VersionedResults } from "./results-cache.js";

const r = (seq: number, total = seq, participants = total): VersionedResults & { total: number } => ({
  roomCode: "ABCDEF",
  total,
  participants,
  seq,
});

describe("results cache", () => {
  it("serves from memory within the TTL and reloads after it", async () => {
    vi.useFakeTimers();
    try {
      const cache = createResultsCache<VersionedResults & { total: number }>({ ttlMs: 250 });
      const load = vi.fn(async () => r(1));
      await cache.get("ABCDEF", load);
      await cache.get("ABCDEF", load);
      expect(load).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(300);
      await cache.get("ABCDEF", load);
      expect(load).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("lets a committed snapshot replace older results, never newer ones", async () => {
    const cache = createResultsCache<VersionedResults & { total: number }>({ ttlMs: 10_000 });
    await cache.get("ABCDEF", async () => r(5));
    cache.offer(r(7));
    expect((await cache.get("ABCDEF", async () => r(0)))?.total).toBe(7);
    cache.offer(r(6));
    expect((await cache.get("ABCDEF", async () => r(0)))?.total).toBe(7);
  });

  it("orders snapshots of the same version by participants (joins do not change the version)", async () => {
    const cache = createResultsCache<VersionedResults & { total: number }>({ ttlMs: 10_000 });
    cache.offer(r(3, 3, 10));
    cache.offer(r(3, 3, 12));
    expect((await cache.get("ABCDEF", async () => r(0)))?.participants).toBe(12);
    cache.offer(r(3, 3, 11));
    expect((await cache.get("ABCDEF", async () => r(0)))?.participants).toBe(12);
    cache.offer(r(4, 4, 5));
    expect((await cache.get("ABCDEF", async () => r(0)))?.seq).toBe(4);
  });

  it("loads once for many concurrent requests and forgets unknown codes", async () => {
    const cache = createResultsCache<VersionedResults & { total: number }>({ ttlMs: 1000 });
    let calls = 0;
    const load = async () => {
      calls++;
      await new Promise((res) => setTimeout(res, 20));
      return r(1);
    };
    const all = await Promise.all(Array.from({ length: 50 }, () => cache.get("ABCDEF", load)));
    expect(calls).toBe(1);
    expect(all.every((x) => x?.total === 1)).toBe(true);
    expect(await cache.get("ZZZZZZ", async () => undefined)).toBeUndefined();
    cache.forget("ABCDEF");
    await cache.get("ABCDEF", load);
    expect(calls).toBe(2);
  });

  it("is a pass-through with a TTL of 0", async () => {
    const cache = createResultsCache<VersionedResults & { total: number }>({ ttlMs: 0 });
    const load = vi.fn(async () => r(1));
    cache.offer(r(9));
    await cache.get("ABCDEF", load);
    await cache.get("ABCDEF", load);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
