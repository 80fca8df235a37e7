import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { requireServices } from "../../test/services.js";

/**
 * Runs the benchmark harness in --quick mode so it cannot rot: every section must produce its figures and the
 * report must render. The numbers themselves are not asserted (tiny sizes on a shared CI machine).
 */

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, "../..");
const ready = requireServices("postgres", "redis");

describe.runIf(ready)("benchmark harness (--quick)", () => {
  it("measures every section next to its baseline and writes REPORT.md + report.json", {
    timeout: 270_000,
  }, async () => {
    const out = mkdtempSync(join(tmpdir(), "zephyr-bench-"));
    try {
      await run(process.execPath, ["--import", "tsx", "loadtest/bench/bench.ts", "--quick", "--out", out], {
        cwd: REPO,
        timeout: 260_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      const r = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
      expect(r.meta.mode).toMatch(/^quick/);
      expect(r.meta.machine.nproc).toBeGreaterThan(0);
      for (const s of [
        "http",
        "votes",
        "answers",
        "fanout",
        "rooms",
        "connections",
        "joinStorm",
        "pages",
        "capacity",
      ])
        expect(r[s]?.error, s).toBeUndefined();
      expect(r.http.zephyr.reqPerSec).toBeGreaterThan(0);
      expect(r.http.bareHono.reqPerSec).toBeGreaterThan(0);
      expect(r.http.sameJson).toBe(true);
      expect(r.votes.group.acks).toBeGreaterThan(0);
      expect(r.votes.naive.acks).toBeGreaterThan(0);
      expect(r.votes.group.storedMatchesParticipants).toBe(true);
      expect(r.answers.single.answers).toBe(r.answers.clients);
      expect(r.answers.wordcloud.answers).toBe(r.answers.clients);
      expect(r.answers.wordcloud.storedMatchesAcks).toBe(true);
      expect(r.answers.wordcloud.entriesPerSec).toBe(3 * r.answers.wordcloud.answersPerSec);
      expect(r.fanout.fanout.crossInstance.count).toBeGreaterThan(0);
      expect(r.fanout.fanout.sameInstance.count).toBeGreaterThan(0);
      expect(r.fanout.fanout.storedTotal).toBe(r.fanout.fanout.votesAcked);
      expect(r.fanout.comparison.naive.messages).toBeGreaterThan(0);
      expect(r.fanout.singleVote.zephyr.latency.count).toBeGreaterThan(0);
      expect(r.fanout.singleVote.bareSocketIoRedis.latency.count).toBeGreaterThan(0);
      expect(r.rooms.votesAcked).toBe(r.rooms.votesSent);
      expect(r.rooms.broadcastToAllPerInstancePerSec).toBeGreaterThan(0);
      expect(r.rooms.receivedPerInstancePerSec).toHaveLength(3);
      expect(r.connections.zephyr.opened).toBe(r.connections.zephyr.requested);
      expect(r.connections.bareSocketIo.opened).toBe(r.connections.bareSocketIo.requested);
      expect(r.joinStorm.zephyr.joined).toBe(r.joinStorm.clients);
      expect(r.joinStorm.bareSocketIo.joined).toBe(r.joinStorm.clients);
      expect(r.joinStorm.zephyr.joinAck.count).toBe(r.joinStorm.clients);
      expect(r.joinStorm.ratio).toBeGreaterThan(0);
      expect(r.pages.audience.performance).toBeGreaterThan(0);
      expect(r.pages.join.metrics.fcpMs).toBeGreaterThan(0);
      expect(r.joinStorm.perJoin.database.tup_inserted).toBeGreaterThan(0);
      expect(r.votes.group.unit.flushesPerSecond).toBeGreaterThan(0);
      expect(r.votes.group.unit.postgresCpuMsPerVote).toBeGreaterThan(0);
      expect(r.capacity.joined).toBe(r.capacity.participants);
      expect(r.capacity.votesAcked).toBe(r.capacity.votesSent);
      expect(r.capacity.measured.messagesPerSecond).toBeGreaterThan(0);
      expect(r.capacity.measured.relayInPerSecondPerPod).toBeGreaterThan(0);
      // The model predicted this run from this run's own sections, not from a committed report.
      expect(r.capacity.costsFrom).toBe("this run");
      // Every measured figure has its prediction (quick sizes are too small for the values to mean anything).
      for (const k of Object.keys(r.capacity.measured))
        expect(Number.isFinite(r.capacity.predicted[k]), k).toBe(true);
      const md = readFileSync(join(out, "REPORT.md"), "utf8");
      for (const h of [
        "## HTTP",
        "## Votes",
        "## Answers",
        "## Fan-out",
        "### Single vote",
        "## Rooms",
        "## Connections",
        "## Join storm",
        "## Pages",
        "## Capacity anchor",
        "## Targets",
      ])
        expect(md).toContain(h);
      expect(md).not.toMatch(/undefined|NaN/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
