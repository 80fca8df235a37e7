import { check } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { clearInterval, clearTimeout, setInterval, setTimeout } from "k6/timers";
import { INSTANCE_URLS } from "../lib/config.ts";
import { rampingVusScenario, selectProfile } from "../lib/profiles.ts";
import { connectSocketIo } from "../lib/socketio.ts";
import { summaryHandler } from "../lib/summary.ts";
import { createPoll, firstAck, getResults, type JoinData, type LiveResults } from "../lib/zephyr.ts";

/**
 * Soak: participants stay for long sessions in a handful of rooms, change their vote now and then, and must
 * keep receiving monotonic updates the whole time; slow leaks show up as growing ack latency or errors late
 * in the run (compare the JSON summaries of consecutive runs), not as an immediate failure.
 */

const profile = selectProfile();
// At most one vote per 5 s per participant, but at least a few per session even in short smoke runs.
const VOTE_EVERY_MS = Math.min(5000, Math.floor((profile.sessionSeconds * 1000) / 3));
const ROOMS = 10;
const voteAck = new Trend("zephyr_vote_ack_duration", true);
const sessionErrors = new Rate("zephyr_soak_session_errors");
const updates = new Counter("zephyr_soak_updates_received");
const outOfOrder = new Counter("zephyr_soak_out_of_order_updates");

export const options: Options = {
  scenarios: { soak: rampingVusScenario(profile, "longSession", profile.participants) },
  thresholds: {
    zephyr_vote_ack_duration: ["p(95)<100", "p(99)<250"],
    zephyr_soak_session_errors: ["rate<0.01"],
    zephyr_soak_out_of_order_updates: ["count==0"],
    checks: ["rate>0.99"],
  },
};

export function setup(): { rooms: string[] } {
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++) {
    const p = createPoll({ options: ["a", "b", "c"], allowVoteChange: true });
    if (p) rooms.push(p.roomCode);
  }
  if (rooms.length === 0) throw new Error("setup could not create any poll");
  return { rooms };
}

export function longSession(data: { rooms: string[] }): void {
  const room = data.rooms[(__VU - 1) % data.rooms.length] as string;
  const url = INSTANCE_URLS[(__VU + __ITER) % INSTANCE_URLS.length] as string;
  let failed = false;
  let lastSeq = -1;
  let votes = 0;
  let voter: number | undefined;
  const io = connectSocketIo(url, {
    onConnect(c) {
      clearTimeout(connectGuard);
      c.session.on("vote-update", (...args: unknown[]) => {
        const u = args[0] as LiveResults;
        updates.add(1);
        outOfOrder.add(u.seq < lastSeq ? 1 : 0);
        lastSeq = Math.max(lastSeq, u.seq);
      });
      c.emit("join-poll", { roomCode: room, nickname: `soak-${__VU}-${__ITER}` }, (err, a) => {
        const ack = firstAck<JoinData>(a);
        if (!check(ack, { "soak participant joined": (x) => !err && x.ok })) {
          failed = true;
          return c.close();
        }
        lastSeq = ack.data?.results.seq ?? -1;
        voter = setInterval(() => {
          const option = (__VU + votes++) % 3;
          c.emit("submit-vote", { optionIndex: option }, (verr, va, rtt) => {
            if (check(firstAck(va), { "soak vote acknowledged": (x) => !verr && x.ok })) voteAck.add(rtt);
            else failed = true;
          });
        }, VOTE_EVERY_MS);
        setTimeout(() => {
          if (voter !== undefined) clearInterval(voter);
          check(c.session, { "soak session still connected": (s) => s.state === "connected" });
          if (c.session.state !== "connected") failed = true;
          c.close();
        }, profile.sessionSeconds * 1000);
      });
    },
    onError() {
      failed = true;
    },
    onClose() {
      if (voter !== undefined) clearInterval(voter);
      sessionErrors.add(failed);
    },
  });
  const connectGuard = setTimeout(() => {
    failed = true;
    io.close();
  }, 10_000);
}

export function teardown(data: { rooms: string[] }): void {
  for (const room of data.rooms) {
    const r = getResults(room);
    check(r, {
      "soak room counts add up": (x) => x !== undefined && x.counts.reduce((a, b) => a + b, 0) === x.total,
    });
  }
}

export const handleSummary = summaryHandler("soak");
