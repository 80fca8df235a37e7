import { check, group } from "k6";
import http from "k6/http";
import { Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { BASE_URL, JSON_HEADERS } from "../lib/config.ts";
import { arrivalScenario, selectProfile } from "../lib/profiles.ts";
import { summaryHandler } from "../lib/summary.ts";
import { createPoll, getResults } from "../lib/zephyr.ts";

/**
 * HTTP API under an open model: every iteration creates a poll, joins it and reads results, at a constant
 * arrival rate so a slow server shows up as latency and dropped iterations instead of a politely lower load.
 * Raise RATE_LIMIT_POLL_CREATE / RATE_LIMIT_JOIN_POLLS on the target: all load comes from few source IPs.
 */

const profile = selectProfile();
const apiErrors = new Rate("zephyr_api_errors");
const resultsDuration = new Trend("zephyr_api_results_duration", true);

export const options: Options = {
  scenarios: { http_api: arrivalScenario(profile, "httpApi") },
  thresholds: {
    // The original design's budget for every API call.
    http_req_duration: ["p(95)<50"],
    http_req_failed: ["rate<0.01"],
    zephyr_api_errors: [{ threshold: "rate<0.01", abortOnFail: false }],
    zephyr_api_results_duration: ["p(95)<50"],
    checks: ["rate>0.99"],
  },
};

export function httpApi(): void {
  let roomCode: string | undefined;
  group("create poll", () => {
    const poll = createPoll();
    apiErrors.add(poll === undefined);
    roomCode = poll?.roomCode;
  });
  if (!roomCode) return;
  const code = roomCode;
  group("join", () => {
    const res = http.post(
      `${BASE_URL}/api/polls/${code}/participants`,
      JSON.stringify({ nickname: `k6-${__VU}-${__ITER}` }),
      { headers: JSON_HEADERS, tags: { name: "POST /api/polls/:code/participants" } },
    );
    const ok = check(res, {
      "joined (201)": (r) => r.status === 201,
      "participant token issued": (r) =>
        typeof (r.json() as { participantToken?: unknown } | null)?.participantToken === "string",
    });
    apiErrors.add(!ok);
  });
  group("results", () => {
    const started = Date.now();
    const results = getResults(code);
    resultsDuration.add(Date.now() - started);
    const ok = check(results, {
      "fresh poll has zero votes": (r) => r !== undefined && r.total === 0 && r.counts.length === 4,
    });
    apiErrors.add(!ok);
  });
}

export const handleSummary = summaryHandler("http-api");
