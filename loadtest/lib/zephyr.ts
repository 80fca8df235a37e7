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

/** A poll of several questions (`{title?, questions}`); the question shapes are in docs/http-api.md. */
export function createPresentation(
  body: { title?: string; questions: Array<Record<string, unknown>> },
  base = BASE_URL,
): CreatedPoll | undefined {
  const res = http.post(`${base}/api/polls`, JSON.stringify(body), {
    headers: JSON_HEADERS,
    tags: { name: "POST /api/polls" },
  });
  if (!check(res, { "presentation created (201)": (r) => r.status === 201 })) return undefined;
  return res.json() as unknown as CreatedPoll;
}

/** Moves the room to question `index` (host token). */
export function activateQuestion(poll: CreatedPoll, index: number, base = BASE_URL): boolean {
  const res = http.post(`${base}/api/polls/${poll.roomCode}/questions/${index}/activate`, null, {
    headers: { Authorization: `Bearer ${poll.hostToken}` },
    tags: { name: "POST /api/polls/:code/questions/:index/activate" },
  });
  return check(res, { "question activated (200)": (r) => r.status === 200 });
}

export interface Results {
  roomCode: string;
  /** single, multiple */
  counts: number[];
  total: number;
  questionIndex?: number;
  type?: string;
  /** rating */
  distribution?: number[];
  average?: number | null;
  /** wordcloud */
  words?: Array<{ text: string; count: number }>;
}

/** Results of the active question, or of `question` when given. */
export function getResults(roomCode: string, base = BASE_URL, question?: number): Results | undefined {
  const query = question === undefined ? "" : `?question=${question}`;
  const res = http.get(`${base}/api/polls/${roomCode}/results${query}`, {
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
