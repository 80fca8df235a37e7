import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { requireServices, sql } from "../../test/services.js";
import { type Client, call, connect } from "../../test/sockets.js";
import { api, type RunningZephyr, startZephyr } from "../../test/zephyr.js";

/**
 * One table of cases, run through HTTP and through Socket.IO: both transports call the same use cases, so every
 * outcome (error code or success) must be the same.
 */

const ready = requireServices("postgres");
const pgUrl = inject("postgresUrl");
const VOTE_LIMIT = 5;

type Outcome = string; // "ok" or an error code
interface Poll {
  id: string;
  roomCode: string;
  hostToken: string;
}
interface Transport {
  join(roomCode: string, payload: Record<string, unknown>): Promise<{ outcome: Outcome; token?: string }>;
  /** Joins as a new participant, then votes `times` times with `payload`; the outcomes of the votes. */
  vote(roomCode: string, payloads: unknown[]): Promise<Outcome[]>;
}

describe.runIf(ready && pgUrl)("the same outcome on HTTP and Socket.IO", () => {
  let z: RunningZephyr;
  const sockets: Client[] = [];
  beforeAll(async () => {
    z = await startZephyr({
      DATABASE_URL: pgUrl!,
      RATE_LIMIT_VOTE: String(VOTE_LIMIT),
      RATE_LIMIT_ROOM_MISS: "100000",
      // this file creates many polls and joins them from one address; those limits have their own tests
      RATE_LIMIT_POLL_CREATE: "100000",
      RATE_LIMIT_JOIN_POLLS: "100000",
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await z?.stop();
  });

  const outcomeOf = (r: { status: number; body: { error?: { code: string } } }) =>
    r.status < 300 ? "ok" : (r.body.error?.code ?? String(r.status));

  const http: Transport = {
    async join(roomCode, payload) {
      const r = await api(z.url, `/api/polls/${roomCode}/participants`, { body: payload });
      return { outcome: outcomeOf(r), token: r.body.participantToken };
    },
    async vote(roomCode, payloads) {
      const { token } = await http.join(roomCode, { nickname: "h" });
      const out: Outcome[] = [];
      for (const body of payloads)
        out.push(outcomeOf(await api(z.url, `/api/polls/${roomCode}/votes`, { body, token })));
      return out;
    },
  };
  const socketTransport: Transport = {
    async join(roomCode, payload) {
      const s = await connect(z.url);
      sockets.push(s);
      const r = await call(s, "join-poll", { roomCode, ...payload });
      return { outcome: r.ok ? "ok" : r.error.code, token: r.ok ? r.data.participantToken : undefined };
    },
    async vote(roomCode, payloads) {
      const s = await connect(z.url);
      sockets.push(s);
      const joined = await call(s, "join-poll", { roomCode, nickname: "s" });
      if (!joined.ok) return [joined.error.code];
      const out: Outcome[] = [];
      for (const p of payloads) {
        const r = await call(s, "submit-vote", p);
        out.push(r.ok ? "ok" : r.error.code);
      }
      return out;
    },
  };

  const newPoll = async (body: Record<string, unknown> = {}) =>
    (await api(z.url, "/api/polls", { body: { question: "Same?", options: ["a", "b", "c"], ...body } }))
      .body as Poll;

  const joinCases: Array<
    [string, (p: Poll, other: Poll) => Promise<[string, Record<string, unknown>]>, Outcome]
  > = [
    ["a new participant", async (p) => [p.roomCode, { nickname: "Ann" }], "ok"],
    ["an unknown room", async () => ["ZZZZZZ", { nickname: "Ann" }], "POLL_NOT_FOUND"],
    ["a room code that cannot be one", async () => ["x".repeat(40), { nickname: "Ann" }], "POLL_NOT_FOUND"],
    ["an empty nickname", async (p) => [p.roomCode, { nickname: "  " }], "VALIDATION_FAILED"],
    ["a nickname that is a number", async (p) => [p.roomCode, { nickname: 7 }], "VALIDATION_FAILED"],
    ["an unknown field", async (p) => [p.roomCode, { nickname: "Ann", admin: true }], "VALIDATION_FAILED"],
    ["neither nickname nor token", async (p) => [p.roomCode, {}], "VALIDATION_FAILED"],
    [
      "an unknown participant token",
      async (p) => [p.roomCode, { participantToken: "zpp_nope" }],
      "UNAUTHORIZED",
    ],
    [
      "another poll's participant token",
      async (p, other) => {
        const { token } = await http.join(other.roomCode, { nickname: "o" });
        return [p.roomCode, { participantToken: token }];
      },
      "FORBIDDEN",
    ],
    [
      "a full poll",
      async (p) => {
        await sql(pgUrl!, "UPDATE polls SET participant_count = 10000 WHERE id = $1", [p.id]);
        return [p.roomCode, { nickname: "late" }];
      },
      "POLL_FULL",
    ],
  ];

  const voteCases: Array<[string, Record<string, unknown>, unknown[], Outcome[]]> = [
    ["a vote", {}, [{ optionIndex: 1 }], ["ok"]],
    ["an option out of range", {}, [{ optionIndex: 3 }], ["INVALID_OPTION"]],
    ["a fractional option", {}, [{ optionIndex: 1.5 }], ["VALIDATION_FAILED"]],
    ["a string option", {}, [{ optionIndex: "1" }], ["VALIDATION_FAILED"]],
    ["an unknown field", {}, [{ optionIndex: 0, extra: 1 }], ["VALIDATION_FAILED"]],
    [
      "a changed vote where changes are off",
      {},
      [{ optionIndex: 0 }, { optionIndex: 1 }],
      ["ok", "VOTE_CHANGE_NOT_ALLOWED"],
    ],
    ["the same vote again", {}, [{ optionIndex: 2 }, { optionIndex: 2 }], ["ok", "ok"]],
    [
      "a flood by one participant",
      { allowVoteChange: true },
      Array.from({ length: VOTE_LIMIT + 2 }, (_, i) => ({ optionIndex: i % 3 })),
      [...Array.from({ length: VOTE_LIMIT }, () => "ok"), "RATE_LIMITED", "RATE_LIMITED"],
    ],
  ];

  const transports: Array<[string, () => Transport]> = [
    ["HTTP", () => http],
    ["Socket.IO", () => socketTransport],
  ];

  describe.each(transports)("%s", (_name, transport) => {
    it.each(joinCases)("join with %s", async (_case, setup, expected) => {
      const [roomCode, payload] = await setup(await newPoll(), await newPoll());
      expect((await transport().join(roomCode, payload)).outcome).toBe(expected);
    });

    it.each(voteCases)("vote: %s", async (_case, pollBody, payloads, expected) => {
      const poll = await newPoll(pollBody);
      expect(await transport().vote(poll.roomCode, payloads)).toEqual(expected);
    });

    it("vote on a closed poll", async () => {
      const poll = await newPoll();
      const closed = await api(z.url, `/api/polls/${poll.roomCode}/close`, {
        method: "POST",
        token: poll.hostToken,
      });
      expect(closed.status).toBe(200);
      expect(await transport().vote(poll.roomCode, [{ optionIndex: 0 }])).toEqual(["POLL_CLOSED"]);
    });
  });

  it("counts both transports against one participant's vote budget", async () => {
    const poll = await newPoll({ allowVoteChange: true });
    const s = await connect(z.url);
    sockets.push(s);
    const joined = await call(s, "join-poll", { roomCode: poll.roomCode, nickname: "both" });
    if (!joined.ok) throw new Error("join failed");
    const outcomes: Outcome[] = [];
    for (let i = 0; i < VOTE_LIMIT + 1; i++) {
      if (i % 2) {
        const r = await call(s, "submit-vote", { optionIndex: i % 3 });
        outcomes.push(r.ok ? "ok" : r.error.code);
      } else {
        const r = await api(z.url, `/api/polls/${poll.roomCode}/votes`, {
          body: { optionIndex: i % 3 },
          token: joined.data.participantToken,
        });
        outcomes.push(outcomeOf(r));
      }
    }
    expect(outcomes).toEqual([...Array.from({ length: VOTE_LIMIT }, () => "ok"), "RATE_LIMITED"]);
  });
});
