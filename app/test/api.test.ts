import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { requireServices } from "../../test/services.js";
import { api, type RunningZephyr, startZephyr } from "../../test/zephyr.js";
import { ROOM_CODE_ALPHABET } from "../src/domain/tokens.js";
import { createPollStore } from "../src/storage/poll-store.js";

const pgUrl = inject("postgresUrl");
const backends: Array<[string, Record<string, string>]> = [["PGlite (embedded)", {}]];
if (requireServices("postgres") && pgUrl) backends.push(["PostgreSQL 15", { DATABASE_URL: pgUrl }]);

describe.each(backends)("HTTP API on %s", (_name, env) => {
  let z: RunningZephyr;
  let base: string;
  beforeAll(async () => {
    z = await startZephyr({
      ...env,
      RATE_LIMIT_POLL_CREATE: "100000",
      RATE_LIMIT_JOIN: "100000",
      RATE_LIMIT_ROOM_MISS: "100000",
      RATE_LIMIT_JOIN_POLLS: "100000",
      RATE_LIMIT_VOTE: "100000",
    });
    base = z.url;
  });
  afterAll(() => z?.stop());

  async function createPoll(body: Record<string, unknown> = {}) {
    const res = await api(base, "/api/polls", {
      body: { question: "Lunch?", options: ["Pizza", "Salad", "Soup"], ...body },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; roomCode: string; hostToken: string };
  }
  async function join(code: string, nickname = "Ann") {
    const res = await api(base, `/api/polls/${code}/participants`, { body: { nickname } });
    expect(res.status).toBe(201);
    return res.body as { participantId: string; participantToken: string };
  }

  describe("POST /api/polls", () => {
    it("creates a poll with a 6-character unambiguous room code and a 256-bit host token", async () => {
      const res = await api(base, "/api/polls", {
        body: { question: " Best editor? ", options: ["vim", "emacs"] },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        question: "Best editor?",
        options: ["vim", "emacs"],
        status: "open",
        allowVoteChange: false,
      });
      expect(res.body.roomCode).toMatch(new RegExp(`^[${ROOM_CODE_ALPHABET}]{6}$`));
      expect(res.body.hostToken).toMatch(/^zph_[A-Za-z0-9_-]{43}$/);
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("never stores the host token in clear", async () => {
      const poll = await createPoll();
      const rows = await z.zephyr.db.query<{ host_token_hash: string }>(
        "SELECT host_token_hash FROM polls WHERE id = $1",
        [poll.id],
      );
      expect(rows[0]?.host_token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[0]?.host_token_hash).not.toContain(poll.hostToken);
    });

    it("gives distinct room codes to many polls", async () => {
      const codes = await Promise.all(Array.from({ length: 40 }, () => createPoll().then((p) => p.roomCode)));
      expect(new Set(codes).size).toBe(40);
    });

    it.each([
      ["missing question", { options: ["a", "b"] }, /question/],
      ["empty question", { question: "   ", options: ["a", "b"] }, /question must not be empty/],
      ["one option", { question: "q", options: ["a"] }, /at least 2 options/],
      [
        "eleven options",
        { question: "q", options: Array.from({ length: 11 }, (_, i) => `o${i}`) },
        /at most 10 options/,
      ],
      ["duplicate options", { question: "q", options: ["Yes", "yes"] }, /unique/],
      ["number as question", { question: 42, options: ["a", "b"] }, /question must be a string/],
      ["options not an array", { question: "q", options: "a,b" }, /options/],
      ["option too long", { question: "q", options: ["a", "x".repeat(101)] }, /at most 100/],
      ["question too long", { question: "q".repeat(301), options: ["a", "b"] }, /at most 300/],
      [
        "allowVoteChange as string",
        { question: "q", options: ["a", "b"], allowVoteChange: "yes" },
        /allowVoteChange/,
      ],
      ["unknown field", { question: "q", options: ["a", "b"], admin: true }, /unknown field\(s\): admin/],
      ["NUL byte", { question: "q\u0000", options: ["a", "b"] }, /not allowed/],
      ["array body", [1, 2], /object/],
    ])("rejects %s with VALIDATION_FAILED", async (_case, body, message) => {
      const res = await api(base, "/api/polls", { body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
      expect(res.body.error.message).toMatch(message);
    });

    it.each([
      ["malformed JSON", '{"question": '],
      ["empty body", ""],
      ["not JSON at all", "question=a&options=b"],
    ])("rejects %s with VALIDATION_FAILED", async (_case, raw) => {
      const res = await api(base, "/api/polls", { raw, headers: { "content-type": "application/json" } });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: "VALIDATION_FAILED" });
    });

    it("rejects an oversized body with PAYLOAD_TOO_LARGE", async () => {
      const res = await api(base, "/api/polls", {
        body: { question: "q", options: ["a", "b"], pad: "x".repeat(20_000) },
      });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    });

    // Without Content-Length the size is only known by counting: the limit must hold for chunked bodies too,
    // and a small chunked body must still get through.
    it.each([
      ["oversized", "x".repeat(20_000), 413],
      ["small", "", 201],
    ])("counts a chunked (%s) body against the limit", async (_case, pad, status) => {
      const json = JSON.stringify({ question: "chunked?", options: ["a", "b"], ...(pad ? { pad } : {}) });
      const bytes = new TextEncoder().encode(json);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.subarray(i, i + 1024));
          controller.close();
        },
      });
      const res = await fetch(`${base}/api/polls`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      const body = (await res.json()) as { error?: { code: string } };
      expect(res.status, JSON.stringify(body)).toBe(status);
      if (status === 413) expect(body.error?.code).toBe("PAYLOAD_TOO_LARGE");
    });

    it("stores SQL-looking text verbatim", async () => {
      const evil = "'; DROP TABLE polls; --";
      const poll = await createPoll({
        question: evil,
        options: ["1 OR 1=1", '" UNION SELECT * FROM votes --'],
      });
      const got = await api(base, `/api/polls/${poll.roomCode}`);
      expect(got.body.question).toBe(evil);
      expect(got.body.options).toEqual(["1 OR 1=1", '" UNION SELECT * FROM votes --']);
    });
  });

  describe("GET /api/polls/:roomCode and /results", () => {
    it("returns the poll without secrets, case-insensitively", async () => {
      const poll = await createPoll();
      const res = await api(base, `/api/polls/${poll.roomCode.toLowerCase()}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: poll.id,
        roomCode: poll.roomCode,
        options: ["Pizza", "Salad", "Soup"],
        status: "open",
      });
      expect(JSON.stringify(res.body)).not.toMatch(/token|hash/i);
    });

    it("returns zero counts for a new poll", async () => {
      const poll = await createPoll();
      const res = await api(base, `/api/polls/${poll.roomCode}/results`);
      expect(res.body).toEqual({
        roomCode: poll.roomCode,
        counts: [0, 0, 0],
        total: 0,
        participants: 0,
        online: 0,
      });
    });

    it.each(["ZZZZZZ", "abc", "%27%20OR%201%3D1", "0OIL10", "x".repeat(40)])(
      "answers POLL_NOT_FOUND for %s",
      async (code) => {
        for (const path of [`/api/polls/${code}`, `/api/polls/${code}/results`]) {
          const res = await api(base, path);
          expect(res.status).toBe(404);
          expect(res.body.error.code).toBe("POLL_NOT_FOUND");
        }
      },
    );
  });

  describe("host actions", () => {
    it("closes, reopens and deletes with the host token", async () => {
      const poll = await createPoll();
      const closed = await api(base, `/api/polls/${poll.roomCode}/close`, {
        method: "POST",
        token: poll.hostToken,
      });
      expect(closed.status).toBe(200);
      expect(closed.body.status).toBe("closed");
      expect((await api(base, `/api/polls/${poll.roomCode}`)).body.status).toBe("closed");
      const reopened = await api(base, `/api/polls/${poll.roomCode}/reopen`, {
        method: "POST",
        token: poll.hostToken,
      });
      expect(reopened.body.status).toBe("open");
      const del = await api(base, `/api/polls/${poll.roomCode}`, { method: "DELETE", token: poll.hostToken });
      expect(del.status).toBe(204);
      expect((await api(base, `/api/polls/${poll.roomCode}`)).status).toBe(404);
    });

    it.each(["close", "reopen", "delete"])(
      "%s: 401 UNAUTHORIZED without a token, 403 FORBIDDEN with a wrong one",
      async (action) => {
        const poll = await createPoll();
        const other = await createPoll();
        const path =
          action === "delete" ? `/api/polls/${poll.roomCode}` : `/api/polls/${poll.roomCode}/${action}`;
        const method = action === "delete" ? "DELETE" : "POST";
        const missing = await api(base, path, { method });
        expect(missing.status).toBe(401);
        expect(missing.body.error.code).toBe("UNAUTHORIZED");
        const basic = await api(base, path, { method, headers: { authorization: "Basic Zm9vOmJhcg==" } });
        expect(basic.status).toBe(401);
        for (const token of [other.hostToken, "zph_wrong", "x".repeat(500)]) {
          const wrong = await api(base, path, { method, token });
          expect(wrong.status).toBe(403);
          expect(wrong.body.error.code).toBe("FORBIDDEN");
        }
        // and nothing changed
        expect((await api(base, `/api/polls/${poll.roomCode}`)).body.status).toBe("open");
      },
    );

    it("answers POLL_NOT_FOUND for host actions on a deleted poll", async () => {
      const poll = await createPoll();
      await api(base, `/api/polls/${poll.roomCode}`, { method: "DELETE", token: poll.hostToken });
      const res = await api(base, `/api/polls/${poll.roomCode}/close`, {
        method: "POST",
        token: poll.hostToken,
      });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("POLL_NOT_FOUND");
    });
  });

  describe("participants and votes", () => {
    it("joins and votes; results count it", async () => {
      const poll = await createPoll();
      const p = await join(poll.roomCode);
      expect(p.participantId).toMatch(/^[0-9a-f-]{36}$/);
      expect(p.participantToken).toMatch(/^zpp_/);
      const vote = await api(base, `/api/polls/${poll.roomCode}/votes`, {
        body: { optionIndex: 2 },
        token: p.participantToken,
      });
      expect(vote.status).toBe(200);
      expect(vote.body).toEqual({ optionIndex: 2 });
      expect((await api(base, `/api/polls/${poll.roomCode}/results`)).body).toEqual({
        roomCode: poll.roomCode,
        counts: [0, 0, 1],
        total: 1,
        participants: 1,
        online: 0,
      });
    });

    it.each([
      "Zoë",
      "李小龙",
      "Ольга",
      "👩‍👩‍👧‍👦 fam",
      "🏳️‍🌈",
      "José-María O'Neil",
      "Bob'); DROP TABLE votes;--",
    ])("accepts the nickname %s and stores it verbatim", async (nickname) => {
      const poll = await createPoll();
      const p = await join(poll.roomCode, nickname);
      const rows = await z.zephyr.db.query<{ nickname: string }>(
        "SELECT nickname FROM participants WHERE id = $1",
        [p.participantId],
      );
      expect(rows[0]?.nickname).toBe(nickname.normalize("NFC"));
    });

    it.each([
      ["empty", ""],
      ["blank", "   "],
      ["too long", "a".repeat(33)],
      ["control character", "bad\u0007bell"],
      ["newline", "two\nlines"],
      ["number", 12345],
      ["null", null],
      ["object", { first: "Ann" }],
      ["lone surrogate", "\ud800x"],
    ])("rejects a %s nickname with VALIDATION_FAILED", async (_case, nickname) => {
      const poll = await createPoll();
      const res = await api(base, `/api/polls/${poll.roomCode}/participants`, { body: { nickname } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
    });

    it("answers POLL_NOT_FOUND when joining an unknown room", async () => {
      const res = await api(base, "/api/polls/ZZZZZZ/participants", { body: { nickname: "Ann" } });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("POLL_NOT_FOUND");
    });

    it("rejects votes: UNAUTHORIZED, FORBIDDEN, INVALID_OPTION, VALIDATION_FAILED, POLL_CLOSED", async () => {
      const poll = await createPoll();
      const other = await createPoll();
      const p = await join(poll.roomCode);
      const stranger = await join(other.roomCode);
      const path = `/api/polls/${poll.roomCode}/votes`;
      const cases: Array<[{ body?: unknown; raw?: string; token?: string }, number, string]> = [
        [{ body: { optionIndex: 0 } }, 401, "UNAUTHORIZED"],
        [{ body: { optionIndex: 0 }, token: "zpp_unknown" }, 401, "UNAUTHORIZED"],
        [{ body: { optionIndex: 0 }, token: stranger.participantToken }, 403, "FORBIDDEN"],
        [{ body: { optionIndex: 3 }, token: p.participantToken }, 400, "INVALID_OPTION"],
        [{ body: { optionIndex: -1 }, token: p.participantToken }, 400, "INVALID_OPTION"],
        [{ body: { optionIndex: 1.5 }, token: p.participantToken }, 400, "VALIDATION_FAILED"],
        [{ body: { optionIndex: "1" }, token: p.participantToken }, 400, "VALIDATION_FAILED"],
        [{ body: {}, token: p.participantToken }, 400, "VALIDATION_FAILED"],
        [{ raw: "{oops", token: p.participantToken }, 400, "VALIDATION_FAILED"],
      ];
      for (const [init, status, code] of cases) {
        const res = await api(base, path, init);
        expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
      }
      await api(base, `/api/polls/${poll.roomCode}/close`, { method: "POST", token: poll.hostToken });
      const closed = await api(base, path, { body: { optionIndex: 0 }, token: p.participantToken });
      expect(closed.status).toBe(409);
      expect(closed.body.error.code).toBe("POLL_CLOSED");
      expect((await api(base, `/api/polls/${poll.roomCode}/results`)).body.total).toBe(0);
    });

    it("refuses a changed vote with VOTE_CHANGE_NOT_ALLOWED but accepts the same vote again", async () => {
      const poll = await createPoll();
      const p = await join(poll.roomCode);
      const path = `/api/polls/${poll.roomCode}/votes`;
      expect((await api(base, path, { body: { optionIndex: 0 }, token: p.participantToken })).status).toBe(
        200,
      );
      const change = await api(base, path, { body: { optionIndex: 1 }, token: p.participantToken });
      expect(change.status).toBe(409);
      expect(change.body.error.code).toBe("VOTE_CHANGE_NOT_ALLOWED");
      expect((await api(base, path, { body: { optionIndex: 0 }, token: p.participantToken })).status).toBe(
        200,
      );
      expect((await api(base, `/api/polls/${poll.roomCode}/results`)).body.counts).toEqual([1, 0, 0]);
    });

    it("moves the vote when allowVoteChange is set", async () => {
      const poll = await createPoll({ allowVoteChange: true });
      const p = await join(poll.roomCode);
      const path = `/api/polls/${poll.roomCode}/votes`;
      await api(base, path, { body: { optionIndex: 0 }, token: p.participantToken });
      const moved = await api(base, path, { body: { optionIndex: 2 }, token: p.participantToken });
      expect(moved.status).toBe(200);
      expect((await api(base, `/api/polls/${poll.roomCode}/results`)).body).toMatchObject({
        counts: [0, 0, 1],
        total: 1,
        participants: 1,
        online: 0,
      });
    });

    it("counts exactly 200 parallel votes from 200 distinct participants", async () => {
      const poll = await createPoll();
      const people = await Promise.all(
        Array.from({ length: 200 }, (_, i) => join(poll.roomCode, `voter ${i}`)),
      );
      const results = await Promise.all(
        people.map((p, i) =>
          api(base, `/api/polls/${poll.roomCode}/votes`, {
            body: { optionIndex: i % 3 },
            token: p.participantToken,
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(200).fill(200));
      const res = await api(base, `/api/polls/${poll.roomCode}/results`);
      expect(res.body.total).toBe(200);
      expect(res.body.counts).toEqual([67, 67, 66]);
      const rows = await z.zephyr.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM votes WHERE poll_id = $1",
        [poll.id],
      );
      expect(rows[0]?.n).toBe(200);
    });

    it.each([false, true])(
      "leaves exactly one vote after 50 parallel re-votes by one participant (allowVoteChange=%s)",
      async (allowVoteChange) => {
        const poll = await createPoll({ allowVoteChange });
        const p = await join(poll.roomCode);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            api(base, `/api/polls/${poll.roomCode}/votes`, {
              body: { optionIndex: i % 3 },
              token: p.participantToken,
            }),
          ),
        );
        const statuses = results.map((r) => r.status);
        expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
        if (allowVoteChange) expect(statuses.every((s) => s === 200)).toBe(true);
        const rows = await z.zephyr.db.query<{ option_position: number }>(
          "SELECT option_position FROM votes WHERE poll_id = $1",
          [poll.id],
        );
        expect(rows).toHaveLength(1);
        const res = await api(base, `/api/polls/${poll.roomCode}/results`);
        expect(res.body.total).toBe(1);
        expect(res.body.counts[rows[0]!.option_position]).toBe(1);
      },
    );

    it("keeps the counters equal to a rebuild from the votes table", async () => {
      const poll = await createPoll({ allowVoteChange: true });
      const people = await Promise.all(Array.from({ length: 30 }, (_, i) => join(poll.roomCode, `p${i}`)));
      await Promise.all(
        people.map((p, i) =>
          api(base, `/api/polls/${poll.roomCode}/votes`, {
            body: { optionIndex: i % 3 },
            token: p.participantToken,
          }),
        ),
      );
      await Promise.all(
        people.map((p, i) =>
          api(base, `/api/polls/${poll.roomCode}/votes`, {
            body: { optionIndex: (i * 7) % 3 },
            token: p.participantToken,
          }),
        ),
      );
      const before = (await api(base, `/api/polls/${poll.roomCode}/results`)).body.counts;
      await z.zephyr.db.query("UPDATE poll_options SET vote_count = 0 WHERE poll_id = $1", [poll.id]);
      const rebuilt = await createPollStore(z.zephyr.db).rebuildCounts(poll.id);
      expect(rebuilt).toEqual(before);
      expect(rebuilt.reduce((a, b) => a + b, 0)).toBe(30);
    });

    it("deleting a poll removes its participants and votes", async () => {
      const poll = await createPoll();
      const p = await join(poll.roomCode);
      await api(base, `/api/polls/${poll.roomCode}/votes`, {
        body: { optionIndex: 0 },
        token: p.participantToken,
      });
      await api(base, `/api/polls/${poll.roomCode}`, { method: "DELETE", token: poll.hostToken });
      const left = await z.zephyr.db.query<{ n: number }>(
        "SELECT (SELECT count(*) FROM participants WHERE poll_id = $1)::int + (SELECT count(*) FROM votes WHERE poll_id = $1)::int AS n",
        [poll.id],
      );
      expect(left[0]?.n).toBe(0);
    });
  });

  describe("routing, headers, metrics", () => {
    it("answers unknown routes and methods with JSON 404", async () => {
      // GET of other paths outside /api gets the web app's not-found page (web.test.ts), as issue 14 asks.
      for (const [method, path] of [
        ["GET", "/api/nope"],
        ["POST", "/nope"],
        ["GET", "/api/polls"],
        ["PUT", "/api/polls/ABCDEF"],
        ["GET", "/api/polls/ABCDEF/votes/extra"],
      ] as const) {
        const res = await api(base, path, { method });
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe("NOT_FOUND");
      }
    });

    it("sets secure headers and echoes a request id", async () => {
      const res = await api(base, "/api/health/live", { headers: { "x-request-id": "trace-abc-123" } });
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("content-security-policy")).toBe("frame-ancestors 'none'");
      expect(res.headers.get("x-request-id")).toBe("trace-abc-123");
    });

    it("exposes the metric names with route patterns as labels and collapses unmatched paths", async () => {
      const poll = await createPoll();
      await api(base, `/api/polls/${poll.roomCode}/results`);
      for (let i = 0; i < 5; i++) await api(base, `/random/${i}/${Math.random()}`);
      const text = (await fetch(`${base}/metrics`).then((r) => r.text())) as string;
      for (const name of [
        "nodejs_heap_size_used_bytes",
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "websocket_connections_current",
        "zephyr_db_pool_connections",
        "zephyr_db_pool_max_connections",
        "zephyr_db_pool_waiting_requests",
      ]) {
        expect(text).toMatch(new RegExp(`^${name}[{ ]`, "m"));
      }
      expect(text).toMatch(
        /http_requests_total\{method="GET",route="\/api\/polls\/:roomCode\/results",status="200"\} \d+/,
      );
      expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
      expect(text).not.toMatch(/route="\/random/);
      expect(text).not.toContain(poll.roomCode);
    });

    it("logs a failed request as one JSON line with its request id (default ACCESS_LOG=errors), never a token", async () => {
      const poll = await createPoll();
      const p = await join(poll.roomCode);
      const vote = (optionIndex: number, id: string) =>
        api(base, `/api/polls/${poll.roomCode}/votes`, {
          body: { optionIndex },
          token: p.participantToken,
          headers: { "x-request-id": id },
        });
      expect((await vote(0, "log-check-ok")).status).toBe(200);
      expect((await vote(99, "log-check-42")).status).toBe(400);
      const lines = z.logs.join("").trim().split("\n");
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.find((e) => e.reqId === "log-check-42")).toMatchObject({
        level: "info",
        msg: "request",
        method: "POST",
        route: "/api/polls/:roomCode/votes",
        status: "400",
      });
      expect(entries.find((e) => e.reqId === "log-check-ok")).toBeUndefined();
      const all = lines.join("\n");
      expect(all).not.toContain(p.participantToken);
      expect(all).not.toContain(poll.hostToken);
    });

    it("reports health details", async () => {
      const res = await api(base, "/api/health");
      expect(res.body).toMatchObject({
        status: "ok",
        instanceId: "test",
        database: { status: "up" },
        redis: { status: "not-configured" },
        usingRedisAdapter: false,
        connections: 0,
      });
      expect(res.body.version).toMatch(/^\d+\.\d+\.\d+/);
      expect((await api(base, "/api/health/live")).status).toBe(200);
      expect((await api(base, "/api/health/ready")).status).toBe(200);
    });
  });
});
