import { check } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { clearTimeout, setTimeout } from "k6/timers";
import { WS_URL } from "../lib/config.ts";
import { rampingVusScenario, selectProfile } from "../lib/profiles.ts";
import { connectSocketIo } from "../lib/socketio.ts";
import { summaryHandler } from "../lib/summary.ts";
import { createPoll, firstAck, type JoinData } from "../lib/zephyr.ts";

/**
 * Ramps WebSocket participants up to the profile's peak and holds them: each VU is one participant that
 * connects, joins the shared room, answers heartbeats for sessionSeconds, and reconnects as a new iteration.
 */

const profile = selectProfile();
const connectTime = new Trend("zephyr_ws_connect_duration", true);
const joinTime = new Trend("zephyr_ws_join_duration", true);
const sessionErrors = new Rate("zephyr_ws_session_errors");
const sessions = new Counter("zephyr_ws_sessions");
const pings = new Counter("zephyr_ws_pings_answered");

export const options: Options = {
  scenarios: { connection_ramp: rampingVusScenario(profile, "participant", profile.participants) },
  thresholds: {
    zephyr_ws_session_errors: ["rate<0.01"],
    zephyr_ws_connect_duration: ["p(95)<500"],
    zephyr_ws_join_duration: ["p(95)<200"],
    zephyr_ws_sessions: ["count>0"],
    checks: ["rate>0.99"],
  },
};

export function setup(): { roomCode: string } {
  const poll = createPoll();
  if (!poll) throw new Error("setup could not create the poll");
  return { roomCode: poll.roomCode };
}

export function participant(data: { roomCode: string }): void {
  let failed = false;
  let joined = false;
  const io = connectSocketIo(WS_URL, {
    onConnect(client) {
      clearTimeout(connectGuard);
      connectTime.add(client.connectMs);
      client.emit(
        "join-poll",
        { roomCode: data.roomCode, nickname: `ramp-${__VU}-${__ITER}` },
        (err, args, rtt) => {
          const ack = firstAck<JoinData>(args);
          joined = check(ack, {
            "join-poll acknowledged ok": (a) => !err && a.ok && !!a.data?.participantToken,
          });
          if (joined) joinTime.add(rtt);
          else failed = true;
          setTimeout(() => {
            const hs = client.session.handshake;
            const expected = hs ? Math.floor((profile.sessionSeconds * 1000) / hs.pingInterval) - 1 : 0;
            check(client.session, {
              "connection survived the hold": (s) => s.state === "connected",
              "every heartbeat answered": (s) => s.pingsAnswered >= expected,
            });
            if (client.session.state !== "connected") failed = true;
            pings.add(client.session.pingsAnswered);
            client.close();
          }, profile.sessionSeconds * 1000);
        },
      );
    },
    onError() {
      failed = true;
    },
    onClose() {
      sessions.add(1);
      sessionErrors.add(failed || !joined);
    },
  });
  // A connect that never completes must end the iteration too, as a failure.
  const connectGuard = setTimeout(() => {
    if (io.connectMs < 0) {
      failed = true;
      io.close();
    }
  }, 10_000);
}

export const handleSummary = summaryHandler("connection-ramp");
