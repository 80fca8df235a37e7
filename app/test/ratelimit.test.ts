import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type RunningZephyr, startZephyr } from "../../test/zephyr.js";

const poll = { question: "q", options: ["a", "b"] };

describe("rate limits per client IP", () => {
  let direct: RunningZephyr;
  let proxied: RunningZephyr;
  beforeAll(async () => {
    [direct, proxied] = await Promise.all([
      startZephyr({ RATE_LIMIT_POLL_CREATE: "3", RATE_LIMIT_JOIN: "2" }),
      startZephyr({ RATE_LIMIT_POLL_CREATE: "2", RATE_LIMIT_JOIN: "2", TRUST_PROXY_HOPS: "1" }),
    ]);
  });
  afterAll(async () => {
    await direct?.stop();
    await proxied?.stop();
  });

  it("limits poll creation with RATE_LIMITED and Retry-After", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await api(direct.url, "/api/polls", { body: poll })).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const res = await api(direct.url, "/api/polls", { body: poll });
    expect(res.body.error.code).toBe("RATE_LIMITED");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("limits new participants per address and poll, not across a poll's other addresses", async () => {
    const code = (await api(proxied.url, "/api/polls", { body: poll })).body.roomCode;
    const join = (xff: string) =>
      api(proxied.url, `/api/polls/${code}/participants`, {
        body: { nickname: "x" },
        headers: { "x-forwarded-for": xff },
      });
    const one = [(await join("198.51.100.20")).status, (await join("198.51.100.20")).status];
    expect([...one, (await join("198.51.100.20")).status]).toEqual([201, 201, 429]);
    expect((await join("198.51.100.21")).status).toBe(201);
  });

  it("refuses room-code guessing over HTTP once an IP has tried too many unknown codes", async () => {
    const g = await startZephyr({ RATE_LIMIT_ROOM_MISS: "3" });
    try {
      const real = (await api(g.url, "/api/polls", { body: poll })).body.roomCode;
      const statuses = [];
      for (const code of ["AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"])
        statuses.push((await api(g.url, `/api/polls/${code}`)).status);
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      // a blocked client cannot tell a real code from a guess
      const realAfter = await api(g.url, `/api/polls/${real}/results`);
      expect(realAfter.status).toBe(429);
      expect(realAfter.body.error.code).toBe("RATE_LIMITED");
    } finally {
      await g.stop();
    }
  });

  it("ignores X-Forwarded-For unless TRUST_PROXY_HOPS says a proxy sets it", async () => {
    // direct: spoofed headers do not give a fresh budget (its poll budget is spent by the first test)
    const spoofed = await api(direct.url, "/api/polls", {
      body: poll,
      headers: { "x-forwarded-for": "203.0.113.99" },
    });
    expect(spoofed.status).toBe(429);
    // behind one trusted proxy: the right-most entry is the client; the left-most is attacker-controlled
    const as = (xff: string) =>
      api(proxied.url, "/api/polls", { body: poll, headers: { "x-forwarded-for": xff } });
    expect((await as("1.1.1.1, 198.51.100.7")).status).toBe(201);
    expect((await as("2.2.2.2, 198.51.100.7")).status).toBe(201);
    expect((await as("3.3.3.3, 198.51.100.7")).status).toBe(429);
    expect((await as("198.51.100.8")).status).toBe(201);
  });
});
