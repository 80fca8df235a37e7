import { describe, expect, it } from "vitest";
import { CHART_FLEET, fmt, plan, podsHolding, sizingTable, type UnitCosts } from "./capacity-model.js";

/** Round unit costs, so each expectation can be worked out by hand from the model's formulas. */
const COSTS: UnitCosts = {
  rssBaseMB: 100,
  rssPerConnKB: 20,
  idleCpuMsPerConnSecond: 0,
  cpuMsPerVote: 0.2,
  cpuMsPerMessage: 0.04,
  flushesPerSecond: 100,
  pgCpuMsPerCommit: 0.05,
  pgCpuMsPerJoin: 0.3,
  cpuMsPerJoin: 1.6,
  redisCpuMsPerDelivery: 0.002,
};
const PEAK = { answerWindowS: 20, joinWindowS: 120 };

describe("capacity model", () => {
  it("counts the pods a room's members land on when a balancer spreads them", () => {
    expect(podsHolding(1, 100)).toBe(1);
    expect(podsHolding(3, 100)).toBeCloseTo(3, 5);
    // 100 members over 200 pods: 200 × (1 − 0.995^100) ≈ 78.8 pods hear every publish of the room.
    expect(podsHolding(200, 100)).toBeCloseTo(78.8, 1);
  });

  it("sizes a quiet crowd by connections and a busy one by CPU", () => {
    // Rooms of 100 answering within 10 s: 10 votes/s a room; a vote within 100 ms of the last shares its
    // update, so 10 / (1 + 1) = 5 updates/s a participant.
    const p = plan({ participants: 10_000, roomSize: 100, answerWindowS: 10, joinWindowS: 120 }, COSTS);
    expect(p.votesPerSecond).toBe(1000);
    expect(p.messagesPerSecond).toBeCloseTo(50_000, 6);
    // 50,000 updates × 0.04 ms = 2 cores before relay and votes: more than two pods' 0.8 core each.
    expect(p.podsBoundBy).toBe("cpu: updates");
    expect(p.perPod.peakCores).toBeLessThanOrEqual(CHART_FLEET.peakCoresPerPod);
    expect(p.pods).toBeGreaterThanOrEqual(Math.ceil((50_000 * 0.04) / 1000 / CHART_FLEET.peakCoresPerPod));
    const slow = plan({ participants: 10_000, roomSize: 100, answerWindowS: 600, joinWindowS: 120 }, COSTS);
    expect(slow.podsBoundBy).toBe("connections");
    expect(slow.pods).toBe(2);
  });

  it("caps each participant's updates at one per broadcast interval however big the room", () => {
    const p = plan({ participants: 100_000, roomSize: 50_000, ...PEAK }, COSTS);
    // 2,500 votes/s a room: 2500 / (1 + 250) ≈ 9.96 updates/s, under the cap of 10.
    expect(p.messagesPerSecond).toBeCloseTo(100_000 * (2500 / 251), 3);
    expect(p.messagesPerSecond).toBeLessThanOrEqual(100_000 * 10);
    // 5,000 votes/s over 2,000-odd pods: each pod commits its few votes one by one.
    expect(p.postgres.peakCores).toBeCloseTo((5000 * 0.05) / 1000, 6);
  });

  it("grows Redis deliveries with the pods each small room spreads over", () => {
    const small = plan({ participants: 1_000_000, roomSize: 100, ...PEAK }, COSTS);
    expect(small.podsPerRoom).toBeGreaterThan(50);
    expect(small.redis.shards).toBeGreaterThan(1);
    expect(small.podsBoundBy).not.toBe("does not fit");
  });

  it("says when no pod count fits: every pod hears every publish of the big rooms it holds", () => {
    const big = plan({ participants: 1_000_000, roomSize: 50_000, ...PEAK }, COSTS);
    expect(big.podsBoundBy).toBe("does not fit");
    expect(big.perPod.connections).toBeLessThan(100);
    expect(big.saturatesFirst).toMatch(/^relay/);
  });

  it("renders one row per crowd and room size that fits", () => {
    const rows = sizingTable(COSTS).split("\n").slice(2);
    // 10k has no room of 50,000; the other two sizes have all three.
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatch(/^\| 10,000 \| 100 \| 100 \| 500 \|/);
    expect(fmt(1234.5)).toBe("1,200");
    expect(fmt(0.0456)).toBe("0.046");
  });
});
