import { check } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { clearTimeout, setTimeout } from "k6/timers";
import { INSTANCE_URLS } from "../lib/config.ts";
import { selectProfile } from "../lib/profiles.ts";
import { connectSocketIo } from "../lib/socketio.ts";
import { summaryHandler } from "../lib/summary.ts";
import {
  createPoll,
  firstAck,
  getResults,
  type JoinData,
  type LiveResults,
  sameCounts,
} from "../lib/zephyr.ts";

/**
 * Many participants vote in one room at once. Every VU joins (spread over INSTANCE_URLS), votes once for
 * option (VU-1) % 4, and stays until it has seen the final tally, so exactness is checked both from what
 * each participant was pushed and from the database afterwards.
 *
 * zephyr_vote_update_latency is an upper bound: from sending the vote to the first vote-update received after
 * the ack. The server offers the committed snapshot to its broadcaster before it sends the ack and broadcasts
 * are monotonic per instance, so any update after the ack carries the vote; an update that carried it just
 * before the ack is not credited, because nothing in the packet identifies it.
 */

const profile = selectProfile();
const OPTIONS = 4;
const voteUpdateLatency = new Trend("zephyr_vote_update_latency", true);
const voteAck = new Trend("zephyr_vote_ack_duration", true);
const voteErrors = new Rate("zephyr_vote_errors");
const votesAcked = new Counter("zephyr_votes_acked");
const exactFinal = new Rate("zephyr_final_counts_exact");
const FINAL_WAIT_MS = 30_000;

export const options: Options = {
  scenarios: {
    voting_burst: {
      executor: "per-vu-iterations",
      exec: "voter",
      vus: profile.burstVoters,
      iterations: 1,
      maxDuration: "2m",
    },
  },
  thresholds: {
    zephyr_vote_update_latency: ["p(95)<100"],
    zephyr_vote_ack_duration: ["p(95)<100"],
    zephyr_vote_errors: ["rate<0.01"],
    zephyr_final_counts_exact: ["rate==1"],
    checks: ["rate>0.99"],
  },
};

function expectedCounts(voters: number): number[] {
  const c = new Array<number>(OPTIONS).fill(0);
  for (let vu = 1; vu <= voters; vu++) c[(vu - 1) % OPTIONS] = (c[(vu - 1) % OPTIONS] ?? 0) + 1;
  return c;
}

interface Data {
  roomCode: string;
  voters: number;
}

export function setup(): Data {
  const poll = createPoll({ options: ["a", "b", "c", "d"] });
  if (!poll) throw new Error("setup could not create the poll");
  return { roomCode: poll.roomCode, voters: profile.burstVoters };
}

export function voter(data: Data): void {
  const expected = expectedCounts(data.voters);
  const option = (__VU - 1) % OPTIONS;
  const url = INSTANCE_URLS[(__VU - 1) % INSTANCE_URLS.length] as string;
  let sentAt = 0;
  let ackedAt = 0;
  let latencyRecorded = false;
  let finished = false;
  let final: { update: LiveResults; at: number } | undefined;
  const io = connectSocketIo(url, {
    onConnect(client) {
      client.session.on("vote-update", (...args: unknown[]) => {
        const u = args[0] as LiveResults;
        const now = Date.now();
        if (ackedAt > 0 && !latencyRecorded) {
          latencyRecorded = true;
          voteUpdateLatency.add(now - sentAt);
        }
        if (u.total >= data.voters && !final) final = { update: u, at: now };
        maybeFinish();
      });
      client.emit("join-poll", { roomCode: data.roomCode, nickname: `burst-${__VU}` }, (err, args) => {
        const join = firstAck<JoinData>(args);
        if (!check(join, { "join-poll ok": (a) => !err && a.ok })) return abort();
        sentAt = Date.now();
        client.emit("submit-vote", { optionIndex: option }, (verr, vargs, rtt) => {
          const ack = firstAck<{ optionIndex: number }>(vargs);
          const ok = check(ack, {
            "vote acknowledged durable": (a) => !verr && a.ok && a.data?.optionIndex === option,
          });
          voteErrors.add(!ok);
          if (!ok) return abort();
          ackedAt = Date.now();
          voteAck.add(rtt);
          votesAcked.add(1);
          maybeFinish();
        });
      });
    },
    onError: () => abort(),
  });
  const guard = setTimeout(() => abort(), FINAL_WAIT_MS);

  // Done once the vote is acknowledged and the final tally has been pushed, in whichever order they came.
  function maybeFinish() {
    if (finished || !final || ackedAt === 0) return;
    finished = true;
    clearTimeout(guard);
    const u = final.update;
    const exact = check(u, {
      "pushed final counts are exact": (r) => r.total === data.voters && sameCounts(r.counts, expected),
    });
    exactFinal.add(exact);
    // The final tally includes every vote; when it came before our ack it is the update that carried ours.
    if (!latencyRecorded) {
      latencyRecorded = true;
      voteUpdateLatency.add(final.at - sentAt);
    }
    io.close();
  }
  function abort() {
    if (finished) return;
    finished = true;
    clearTimeout(guard);
    exactFinal.add(false);
    io.close();
  }
}

export function teardown(data: Data): void {
  const r = getResults(data.roomCode);
  const exact = check(r, {
    "stored counts are exact": (x) => x !== undefined && sameCounts(x.counts, expectedCounts(data.voters)),
  });
  exactFinal.add(exact);
}

export const handleSummary = summaryHandler("voting-burst");
