import { afterEach, describe, expect, it, vi } from "vitest";
import type { ResultsSnapshot } from "../domain/poll.js";
import { createBroadcaster } from "./broadcaster.js";

const snap = (seq: number, pollId = "p1", questionIndex = 0): ResultsSnapshot => ({
  pollId,
  roomCode: "ABCDEF",
  questionIndex,
  activeQuestion: questionIndex,
  questionCount: 2,
  seq,
  participants: 1,
  hidden: false,
  results: { type: "single", counts: [seq], total: seq },
  oldestVoteAt: Date.now(),
});

describe("broadcaster (leading + trailing edge throttle)", () => {
  afterEach(() => vi.useRealTimers());

  it("emits a lone snapshot at once and collapses a burst into one trailing message with the newest counts", () => {
    vi.useFakeTimers();
    const emitted: number[] = [];
    const b = createBroadcaster({ intervalMs: 100, emit: (s) => emitted.push(s.seq) });
    b.offer(snap(1));
    expect(emitted).toEqual([1]);
    for (let seq = 2; seq <= 50; seq++) b.offer(snap(seq));
    expect(emitted).toEqual([1]);
    vi.advanceTimersByTime(100);
    expect(emitted).toEqual([1, 50]);
    vi.advanceTimersByTime(1000);
    expect(emitted).toEqual([1, 50]);
    b.close();
  });

  it("sends joins (same version, more participants) as a host-only update, and never fewer participants", () => {
    vi.useFakeTimers();
    const emitted: Array<[number, number, boolean]> = [];
    const b = createBroadcaster({
      intervalMs: 100,
      emit: (s, _online, _oldest, changed) => emitted.push([s.seq, s.participants, changed]),
    });
    b.offer(snap(4));
    for (let p = 2; p <= 30; p++) b.offer({ ...snap(4), participants: p });
    b.offer({ ...snap(4), participants: 12 });
    vi.advanceTimersByTime(150);
    expect(emitted).toEqual([
      [4, 1, true],
      [4, 30, false],
    ]);
    b.close();
  });

  it("never emits an older seq than one already emitted or pending", () => {
    vi.useFakeTimers();
    const emitted: number[] = [];
    const b = createBroadcaster({ intervalMs: 100, emit: (s) => emitted.push(s.seq) });
    b.offer(snap(5));
    b.offer(snap(3));
    b.offer(snap(7));
    b.offer(snap(6));
    vi.advanceTimersByTime(150);
    b.offer(snap(7));
    b.offer(snap(2));
    vi.advanceTimersByTime(500);
    expect(emitted).toEqual([5, 7]);
    b.close();
  });

  it("bounds messages to about 1000/interval per second under a continuous stream", () => {
    vi.useFakeTimers();
    let n = 0;
    const b = createBroadcaster({ intervalMs: 100, emit: () => n++ });
    for (let t = 0; t < 2000; t++) {
      b.offer(snap(t + 1));
      vi.advanceTimersByTime(1); // one snapshot per millisecond for 2 s
    }
    vi.advanceTimersByTime(200);
    expect(n).toBeGreaterThanOrEqual(19);
    expect(n).toBeLessThanOrEqual(21);
    b.close();
  });

  it("keeps rooms independent and emits everything when the interval is 0", () => {
    const emitted: string[] = [];
    const b = createBroadcaster({ intervalMs: 0, emit: (s) => emitted.push(`${s.pollId}:${s.seq}`) });
    b.offer(snap(1, "a"));
    b.offer(snap(1, "b"));
    b.offer(snap(2, "a"));
    expect(emitted).toEqual(["a:1", "b:1", "a:2"]);
    b.close();
  });

  it("delivers each question's last results when the host moves on within one interval", () => {
    vi.useFakeTimers();
    const emitted: string[] = [];
    const b = createBroadcaster({
      intervalMs: 100,
      emit: (s, _online, _oldest, changed) => emitted.push(`q${s.questionIndex}:${s.seq}:${changed}`),
    });
    b.offer(snap(1, "p1", 0));
    b.offer(snap(2, "p1", 0));
    b.offer(snap(3, "p1", 1));
    b.offer(snap(4, "p1", 1));
    vi.advanceTimersByTime(100);
    expect(emitted).toEqual(["q0:1:true", "q0:2:true", "q1:4:true"]);
    b.setOnline("p1", 5);
    vi.advanceTimersByTime(100);
    expect(emitted.at(-1), "an online-only update goes out with the newest question").toBe("q1:4:false");
    b.close();
  });
});
