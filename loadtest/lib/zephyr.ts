import { check } from "k6";
import http from "k6/http";
import { BASE_URL, JSON_HEADERS } from "./config.ts";

/** Zephyr's HTTP API from k6, with the checks every scenario relies on. */

export interface CreatedPoll {
  id: string;
  roomCode: string;
  hostToken: string;
}

export function createPoll(
  opts: { options?: string[]; allowVoteChange?: boolean; base?: string } = {},
): CreatedPoll | undefined {
  const res = http.post(
    `${opts.base ?? BASE_URL}/api/polls`,
    JSON.stringify({
      question: "k6 load test",
      options: opts.options ?? ["red", "green", "blue", "yellow"],
      allowVoteChange: opts.allowVoteChange ?? false,
    }),
    { headers: JSON_HEADERS, tags: { name: "POST /api/polls" } },
  );
  const ok = check(res, { "poll created (201)": (r) => r.status === 201 });
  if (!ok) return undefined;
  return res.json() as unknown as CreatedPoll;
}

export interface Results {
  roomCode: string;
  counts: number[];
  total: number;
}

export function getResults(roomCode: string, base = BASE_URL): Results | undefined {
  const res = http.get(`${base}/api/polls/${roomCode}/results`, {
    tags: { name: "GET /api/polls/:code/results" },
  });
  if (!check(res, { "results read (200)": (r) => r.status === 200 })) return undefined;
  return res.json() as unknown as Results;
}

/** Live results as pushed in vote-update and returned by join-poll. */
export interface LiveResults extends Results {
  participants: number;
  seq: number;
}

export interface AckBody<T> {
  ok: boolean;
  data?: T;
  error?: { code: string; message: string };
}

export interface JoinData {
  participantId: string;
  participantToken: string;
  results: LiveResults;
  yourVote: number | null;
}

export function firstAck<T>(args: unknown[]): AckBody<T> {
  const a = args[0] as AckBody<T> | undefined;
  return a ?? { ok: false, error: { code: "NO_ACK_BODY", message: "empty ack" } };
}

export function sameCounts(a: number[] | undefined, b: number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}
