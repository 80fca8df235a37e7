import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { redisModes } from "../../test/redis-cluster.js";
import { requireServices } from "../../test/services.js";
import { type Client, call, connect } from "../../test/sockets.js";
import { api, type RunningZephyr, startZephyr, TEST_KEY_PREFIX, waitFor } from "../../test/zephyr.js";

/** The Socket.IO contract on one instance (in-memory adapter), with real socket.io clients. */

const hasPg = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");

describe.runIf(hasPg && pgUrl)("Socket.IO contract (single instance)", () => {
  let z: RunningZephyr;
  const clients: Client[] = [];
  const client = async (opts?: Parameters<typeof connect>[1]) => {
    const c = await connect(z.url, opts);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    z = await startZephyr({
      DATABASE_URL: pgUrl!,
      RATE_LIMIT_JOIN: "100000",
      RATE_LIMIT_VOTE: "5",
      RATE_LIMIT_ROOM_MISS: "1000",
    });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await z?.stop();
  });

  const newPoll = async (body: Record<string, unknown> = {}) =>
    (
      await api(z.url, "/api/polls", {
        body: { question: "Live?", options: ["yes", "no", "maybe"], ...body },
      })
    ).body;

  it("joins, votes with a durable ack, and streams vote-update to everyone in the room", async () => {
    const poll = await newPoll();
    const [ann, bob] = [await client(), await client()];
    const joined = await call(ann, "join-poll", {
      roomCode: poll.roomCode.toLowerCase(),
      nickname: "Ann 🎉",
    });
    expect(joined).toMatchObject({
      ok: true,
      data: {
        nickname: "Ann 🎉",
        poll: { roomCode: poll.roomCode, options: ["yes", "no", "maybe"] },
        yourVote: null,
      },
    });
    expect(joined.ok && joined.data.results).toMatchObject({
      roomCode: poll.roomCode,
      counts: [0, 0, 0],
      total: 0,
      participants: 1,
    });
    expect(JSON.stringify(joined)).not.toContain("hostToken");
    await call(bob, "join-poll", { roomCode: poll.roomCode, nickname: "Bob" });

    const ack = await call(ann, "submit-vote", { optionIndex: 1 });
    expect(ack).toEqual({ ok: true, data: { optionIndex: 1 } });
    // acknowledged = committed
    expect((await api(z.url, `/api/polls/${poll.roomCode}/results`)).body.counts).toEqual([0, 1, 0]);
    await waitFor(async () => bob.updates.at(-1)?.total === 1, { what: "vote-update at bob" });
    expect(bob.updates.at(-1)).toMatchObject({
      roomCode: poll.roomCode,
      counts: [0, 1, 0],
      total: 1,
      participants: 2,
    });
    expect(ann.updates.at(-1)?.counts).toEqual([0, 1, 0]);
  });

  it("restores the same participant and vote from a token on a new connection", async () => {
    const poll = await newPoll();
    const first = await client();
    const joined = await call(first, "join-poll", { roomCode: poll.roomCode, nickname: "Zoë" });
    expect(joined.ok).toBe(true);
    if (!joined.ok) return;
    await call(first, "submit-vote", { optionIndex: 2 });
    first.disconnect();
    const again = await client();
    const restored = await call(again, "join-poll", {
      roomCode: poll.roomCode,
      participantToken: joined.data.participantToken,
    });
    expect(restored).toMatchObject({
      ok: true,
      data: { participantId: joined.data.participantId, nickname: "Zoë", yourVote: 2 },
    });
    const other = await newPoll();
    const wrongPoll = await call(await client(), "join-poll", {
      roomCode: other.roomCode,
      participantToken: joined.data.participantToken,
    });
    expect(wrongPoll).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    const unknown = await call(await client(), "join-poll", {
      roomCode: poll.roomCode,
      participantToken: "zpp_nope",
    });
    expect(unknown).toMatchObject({ ok: false, error: { code: "UNAUTHORIZED" } });
  });

  it("counts votes cast over HTTP exactly like socket votes and broadcasts them", async () => {
    const poll = await newPoll();
    const watcher = await client();
    await call(watcher, "join-poll", { roomCode: poll.roomCode, nickname: "watcher" });
    const p = (await api(z.url, `/api/polls/${poll.roomCode}/participants`, { body: { nickname: "http" } }))
      .body;
    await api(z.url, `/api/polls/${poll.roomCode}/votes`, {
      body: { optionIndex: 0 },
      token: p.participantToken,
    });
    await waitFor(async () => watcher.updates.at(-1)?.total === 1, { what: "vote-update after HTTP vote" });
    expect(watcher.updates.at(-1)?.counts).toEqual([1, 0, 0]);
  });

  it("answers every vote error with a whitelisted code", async () => {
    const poll = await newPoll();
    const c = await client();
    expect(await call(c, "submit-vote", { optionIndex: 0 })).toMatchObject({
      ok: false,
      error: { code: "NOT_JOINED" },
    });
    await call(c, "join-poll", { roomCode: poll.roomCode, nickname: "err" });
    expect(await call(c, "submit-vote", { optionIndex: 9 })).toMatchObject({
      ok: false,
      error: { code: "INVALID_OPTION" },
    });
    expect(await call(c, "submit-vote", { optionIndex: "0" })).toMatchObject({
      ok: false,
      error: { code: "VALIDATION_FAILED" },
    });
    expect(await call(c, "submit-vote", { optionIndex: 0 })).toMatchObject({ ok: true });
    expect(await call(c, "submit-vote", { optionIndex: 1 })).toMatchObject({
      ok: false,
      error: { code: "VOTE_CHANGE_NOT_ALLOWED" },
    });
    // RATE_LIMIT_VOTE=5 per participant; the invalid option, the vote and the refused change count (schema
    // failures are refused before the limiter), so two more pass and the next is limited.
    expect(await call(c, "submit-vote", { optionIndex: 0 })).toMatchObject({ ok: true });
    expect(await call(c, "submit-vote", { optionIndex: 0 })).toMatchObject({ ok: true });
    expect(await call(c, "submit-vote", { optionIndex: 0 })).toMatchObject({
      ok: false,
      error: { code: "RATE_LIMITED" },
    });
    const closing = await newPoll();
    const d = await client();
    await call(d, "join-poll", { roomCode: closing.roomCode, nickname: "late" });
    await api(z.url, `/api/polls/${closing.roomCode}/close`, { method: "POST", token: closing.hostToken });
    await waitFor(async () => d.states.at(-1)?.status === "closed", { what: "poll-state closed" });
    expect(await call(d, "submit-vote", { optionIndex: 0 })).toMatchObject({
      ok: false,
      error: { code: "POLL_CLOSED" },
    });
    expect(await call(await client(), "join-poll", { roomCode: "ZZZZZZ", nickname: "x" })).toMatchObject({
      ok: false,
      error: { code: "POLL_NOT_FOUND" },
    });
  });

  it("lets the host join with the host token only, and tells sockets about reopen and delete", async () => {
    const poll = await newPoll();
    const host = await client();
    expect(await call(host, "host-join", { roomCode: poll.roomCode, hostToken: "zph_wrong" })).toMatchObject({
      ok: false,
      error: { code: "FORBIDDEN" },
    });
    const ok = await call(host, "host-join", { roomCode: poll.roomCode, hostToken: poll.hostToken });
    expect(ok).toMatchObject({
      ok: true,
      data: { poll: { roomCode: poll.roomCode }, results: { counts: [0, 0, 0] } },
    });
    const voter = await client();
    await call(voter, "join-poll", { roomCode: poll.roomCode, nickname: "v" });
    await call(voter, "submit-vote", { optionIndex: 2 });
    await waitFor(async () => host.updates.at(-1)?.total === 1, { what: "host sees the vote" });
    await api(z.url, `/api/polls/${poll.roomCode}/close`, { method: "POST", token: poll.hostToken });
    await api(z.url, `/api/polls/${poll.roomCode}/reopen`, { method: "POST", token: poll.hostToken });
    await api(z.url, `/api/polls/${poll.roomCode}`, { method: "DELETE", token: poll.hostToken });
    await waitFor(async () => voter.states.length === 3, { what: "three poll-state events" });
    expect(voter.states.map((s) => s.status)).toEqual(["closed", "open", "deleted"]);
    expect(host.states.map((s) => s.status)).toEqual(["closed", "open", "deleted"]);
    expect(await call(voter, "submit-vote", { optionIndex: 1 })).toMatchObject({
      ok: false,
      error: { code: "POLL_NOT_FOUND" },
    });
  });

  it("leave-poll stops updates", async () => {
    const poll = await newPoll({ allowVoteChange: true });
    const [a, b] = [await client(), await client()];
    await call(a, "join-poll", { roomCode: poll.roomCode, nickname: "a" });
    await call(b, "join-poll", { roomCode: poll.roomCode, nickname: "b" });
    expect(await call(b, "leave-poll", {})).toEqual({ ok: true, data: { left: true } });
    const before = b.updates.length;
    await call(a, "submit-vote", { optionIndex: 0 });
    await waitFor(async () => a.updates.at(-1)?.total === 1, { what: "a sees its vote" });
    await new Promise((r) => setTimeout(r, 300));
    expect(b.updates.length).toBe(before);
    expect(await call(b, "submit-vote", { optionIndex: 0 })).toMatchObject({
      ok: false,
      error: { code: "NOT_JOINED" },
    });
  });

  it("counts connections in websocket_connections_current and /api/health", async () => {
    const before = (await api(z.url, "/api/health")).body.connections as number;
    const extra = await Promise.all([client(), client(), client({ transports: ["polling"] })]);
    expect((await api(z.url, "/api/health")).body.connections).toBe(before + 3);
    const metrics = await fetch(`${z.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`^websocket_connections_current ${before + 3}$`, "m"));
    for (const c of extra) c.disconnect();
    await waitFor(async () => (await api(z.url, "/api/health")).body.connections === before, {
      what: "connections drop",
    });
  });

  it("rejects room-code guessing per IP with RATE_LIMITED", async () => {
    const g = await startZephyr({ DATABASE_URL: pgUrl!, RATE_LIMIT_ROOM_MISS: "3", RATE_LIMIT_JOIN: "1000" });
    try {
      const c = await connect(g.url);
      const codes = [];
      for (const code of ["AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"])
        codes.push((await call(c, "join-poll", { roomCode: code, nickname: "g" })) as any);
      expect(codes.map((r) => r.error?.code)).toEqual([
        "POLL_NOT_FOUND",
        "POLL_NOT_FOUND",
        "POLL_NOT_FOUND",
        "RATE_LIMITED",
        "RATE_LIMITED",
      ]);
      c.disconnect();
    } finally {
      await g.stop();
    }
  });
});

describe.runIf(hasPg && pgUrl).each(redisModes())("with $mode configured", ({ env: redisEnv, client }) => {
  it("uses the Redis adapter and reports it in /api/health", async () => {
    const z = await startZephyr({ DATABASE_URL: pgUrl!, ...redisEnv });
    try {
      await waitFor(async () => (await api(z.url, "/api/health")).body.redis?.status === "up", {
        what: "redis up",
      });
      expect((await api(z.url, "/api/health")).body).toMatchObject({
        usingRedisAdapter: true,
        redis: { status: "up" },
      });
      expect((await api(z.url, "/api/health/ready")).status).toBe(200);
    } finally {
      await z.stop();
    }
  });

  it("keeps presence in Redis: online counts connected participants, not sockets or hosts", async () => {
    const redis = client();
    const z = await startZephyr({ DATABASE_URL: pgUrl!, ...redisEnv, PRESENCE_SYNC_MS: "200" });
    const sockets: Client[] = [];
    try {
      const poll = (await api(z.url, "/api/polls", { body: { question: "s", options: ["a", "b"] } })).body;
      const host = await connect(z.url);
      sockets.push(host);
      expect((await call(host, "host-join", { roomCode: poll.roomCode, hostToken: poll.hostToken })).ok).toBe(
        true,
      );
      const first = await connect(z.url);
      const j = await call(first, "join-poll", { roomCode: poll.roomCode, nickname: "Sam" });
      if (!j.ok) throw new Error("join failed");
      // the same participant on a second tab counts once
      const secondTab = await connect(z.url);
      await call(secondTab, "join-poll", {
        roomCode: poll.roomCode,
        participantToken: j.data.participantToken,
      });
      const other = await connect(z.url);
      await call(other, "join-poll", { roomCode: poll.roomCode, nickname: "Kim" });
      sockets.push(first, secondTab, other);
      await waitFor(async () => host.updates.at(-1)?.online === 2, { what: "online 2" });
      const key = `${TEST_KEY_PREFIX}:presence:{${poll.id}}`;
      const members: string[] = await redis.zrange(key, "0", "-1");
      expect(members).toContain(j.data.participantId);
      expect(members).toHaveLength(2);
      const results = (await api(z.url, `/api/polls/${poll.roomCode}/results`)).body;
      expect(results).toMatchObject({ participants: 2, online: 2 });
      // Online-only changes reach the host screens alone; participants get the count with the next results.
      expect(first.updates, "a participant got an online-only update").toEqual([]);
      expect((await call(other, "submit-vote", { optionIndex: 0 })).ok).toBe(true);
      await waitFor(async () => first.updates.at(-1)?.total === 1, { what: "the vote reaches participants" });
      expect(first.updates.at(-1)).toMatchObject({ online: 2, participants: 2 });
      other.disconnect();
      await waitFor(async () => host.updates.at(-1)?.online === 1, { what: "online 1 after a leave" });
      first.disconnect();
      await new Promise((r) => setTimeout(r, 600));
      expect(host.updates.at(-1)?.online, "one tab of the participant is still open").toBe(1);
      secondTab.disconnect();
      await waitFor(async () => host.updates.at(-1)?.online === 0, { what: "online 0" });
      expect(host.updates.every((u) => u.online >= 0)).toBe(true);
    } finally {
      for (const c of sockets) c.disconnect();
      await z.stop();
      redis.disconnect();
    }
  });

  it("shares rate limits across instances through Redis", async () => {
    const env = {
      DATABASE_URL: pgUrl!,
      ...redisEnv,
      RATE_LIMIT_ROOM_MISS: "4",
      RATE_LIMIT_WINDOW_MS: "60000",
    };
    const [a, b] = await Promise.all([startZephyr(env), startZephyr(env)]);
    try {
      // a unique client address for this test, so other tests' joins do not count
      const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
      const join = (z: RunningZephyr) =>
        api(z.url, "/api/polls/ABCDEF/participants", {
          body: { nickname: "x" },
          headers: { "x-forwarded-for": ip },
        });
      const [za, zb] = [
        await startZephyr({ ...env, TRUST_PROXY_HOPS: "1" }),
        await startZephyr({ ...env, TRUST_PROXY_HOPS: "1" }),
      ];
      try {
        const statuses = [];
        for (const z of [za, zb, za, zb, za, zb]) statuses.push((await join(z)).status);
        // four unknown codes are answered, the fifth and sixth are refused, whichever instance
        expect(statuses).toEqual([404, 404, 404, 404, 429, 429]);
      } finally {
        await za.stop();
        await zb.stop();
      }
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe.runIf(hasPg && pgUrl)("transport and batching settings", () => {
  it("naive mode (VOTE_BATCH_MAX=1, BROADCAST_INTERVAL_MS=0) writes and broadcasts once per vote", async () => {
    const z = await startZephyr({
      DATABASE_URL: pgUrl!,
      VOTE_BATCH_MAX: "1",
      BROADCAST_INTERVAL_MS: "0",
      RATE_LIMIT_JOIN: "1000",
    });
    try {
      const poll = (await api(z.url, "/api/polls", { body: { question: "n", options: ["a", "b"] } })).body;
      const observer = await connect(z.url);
      await call(observer, "join-poll", { roomCode: poll.roomCode, nickname: "obs" });
      const voters = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const c = await connect(z.url);
          await call(c, "join-poll", { roomCode: poll.roomCode, nickname: `v${i}` });
          return c;
        }),
      );
      await Promise.all(voters.map((v, i) => call(v, "submit-vote", { optionIndex: i % 2 })));
      await waitFor(async () => observer.updates.at(-1)?.total === 20, { what: "final counts" });
      // One broadcast per committed vote; a snapshot overtaken by a newer one is dropped (seq never goes
      // backwards), so a few of the 20 may be skipped. Coalesced, the same burst yields two or three.
      // Presence changes (online) also produce updates with an unchanged seq; count the votes' ones.
      const seqs = observer.updates.map((u) => u.seq);
      const voteUpdates = seqs.filter((seq, i) => i === 0 || seq !== seqs[i - 1]).filter((seq) => seq > 0);
      expect(voteUpdates.length).toBeGreaterThan(12);
      expect(voteUpdates.length).toBeLessThanOrEqual(20);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThanOrEqual(seqs[i - 1]!);
      const metrics = await fetch(`${z.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/^zephyr_vote_batch_size_bucket\{le="1"\} 20$/m);
      expect(metrics).toMatch(/^zephyr_vote_batch_size_count 20$/m);
      for (const c of [observer, ...voters]) c.disconnect();
    } finally {
      await z.stop();
    }
  });

  it("websocket-only transport refuses long-polling", async () => {
    const z = await startZephyr({ DATABASE_URL: pgUrl!, SOCKET_TRANSPORTS: "websocket" });
    try {
      const ws = await connect(z.url);
      expect(ws.connected).toBe(true);
      ws.disconnect();
      await expect(connect(z.url, { transports: ["polling"], reconnection: false })).rejects.toThrow();
    } finally {
      await z.stop();
    }
  });
});
