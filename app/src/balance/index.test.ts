import { describe, expect, it } from "vitest";
import { createRebalancer, type LoadBoard, shedCount } from "./index.js";

const half = () => 0.5;

describe("shedCount", () => {
  it("sheds half the excess over the mean, jittered, within the rate", () => {
    // mean 1000, excess 500: half of it jittered by 0.75 → 188, capped by the rate
    expect(
      shedCount({ mine: 1500, fleet: [1500, 1500, 0], tolerance: 0.05, maxPerTick: 1000, random: half }),
    ).toBe(188);
    expect(
      shedCount({ mine: 1500, fleet: [1500, 1500, 0], tolerance: 0.05, maxPerTick: 50, random: half }),
    ).toBe(50);
  });

  it("never sheds below the mean", () => {
    let shedding = 0;
    for (let mine = 0; mine < 300; mine += 7) {
      const fleet = [mine, 100, 0];
      const mean = (mine + 100) / 3;
      const n = shedCount({ mine, fleet, tolerance: 0.01, maxPerTick: 10_000, random: () => 1 });
      if (mine <= mean) expect(n).toBe(0);
      else expect(mine - n).toBeGreaterThanOrEqual(mean);
      if (n > 0) shedding++;
    }
    expect(shedding).toBeGreaterThan(20);
  });

  it("keeps shedding while a quiet instance is outside the band, and stops once every one is inside", () => {
    // 1040 is inside 5 % of the mean (1000) itself, but 900 is not: the instances above the mean still shed.
    expect(
      shedCount({ mine: 1040, fleet: [1040, 1060, 900], tolerance: 0.05, maxPerTick: 100, random: half }),
    ).toBe(15);
    expect(
      shedCount({ mine: 1040, fleet: [1040, 1000, 960], tolerance: 0.05, maxPerTick: 100, random: half }),
    ).toBe(0);
  });

  it("leaves a lone instance and small differences alone", () => {
    expect(shedCount({ mine: 500, fleet: [500], tolerance: 0.05, maxPerTick: 100 })).toBe(0);
    expect(shedCount({ mine: 6, fleet: [6, 2, 1], tolerance: 0.05, maxPerTick: 100 })).toBe(0);
  });
});

describe("createRebalancer", () => {
  it("sheds nothing while the fleet's total moves (a crowd arriving), even far from the mean", async () => {
    let total = 0;
    let shed = 0;
    const r = createRebalancer({
      board: board(() => {
        total += 300;
        return [total, total / 3];
      }),
      connections: () => total,
      shed: () => ++shed > 0,
      isDraining: () => false,
      intervalMs: 50,
    });
    await new Promise((res) => setTimeout(res, 400));
    await r.close();
    expect(total).toBeGreaterThan(1000);
    expect(shed).toBe(0);
  });

  const board = (fleet: () => number[]): LoadBoard & { left: number } => ({
    left: 0,
    async exchange() {
      return fleet();
    },
    async leave() {
      this.left++;
    },
  });

  it("sheds toward the mean at its rate, and nothing once draining; leaves the board when draining", async () => {
    let mine = 400;
    let draining = false;
    let shed = 0;
    // Shed clients land on the other instance.
    const b = board(() => [mine, 400 - mine]);
    const r = createRebalancer({
      board: b,
      connections: () => mine,
      shed: () => {
        mine--;
        shed++;
        return true;
      },
      isDraining: () => draining,
      tolerance: 0.05,
      maxShedPerSecond: 100,
      intervalMs: 100,
      random: half,
    });
    await new Promise((res) => setTimeout(res, 550));
    expect(shed).toBeGreaterThan(0);
    // at most 10 per 100 ms tick (the first tick only observes), never below the mean
    expect(shed).toBeLessThanOrEqual(50);
    expect(mine).toBeGreaterThanOrEqual(200);
    draining = true;
    const before = shed;
    await new Promise((res) => setTimeout(res, 350));
    expect(shed).toBe(before);
    expect(b.left).toBe(1);
    await r.close();
    expect(b.left).toBe(1);
  });
});
