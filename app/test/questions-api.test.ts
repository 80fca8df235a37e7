/**
 * The presentation contract on one instance, over HTTP and Socket.IO with real clients, PostgreSQL and Redis:
 * creating a poll of several questions, answering each type, the host stepping through questions, hiding and
 * revealing results, moderating open answers, and the errors bad answers get.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { requireServices } from "../../test/services.js";
import { call, connect, type LiveClient } from "../../test/sockets.js";
import { api, type RunningZephyr, startZephyr, waitFor } from "../../test/zephyr.js";
import { FIVE_QUESTIONS } from "./presentation-kit.js";

const hasServices = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const redisUrl = inject("redisUrl");

describe.runIf(hasServices && pgUrl)("presentations: questions, answers, host steps (one instance)", () => {
  let z: RunningZephyr;
  const clients: LiveClient[] = [];
  const client = async () => {
    const c = await connect(z.url);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    z = await startZephyr({
      DATABASE_URL: pgUrl!,
      REDIS_URL: redisUrl!,
      RATE_LIMIT_JOIN: "100000",
      RATE_LIMIT_VOTE: "1000",
    });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await z?.stop();
  });

  const create = async (body: unknown = FIVE_QUESTIONS) => {
    const res = await api(z.url, "/api/polls", { body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { roomCode: string; hostToken: string; questions: Array<{ index: number }> };
  };
  const join = async (roomCode: string, nickname: string) =>
    (await api(z.url, `/api/polls/${roomCode}/participants`, { body: { nickname } })).body
      .participantToken as string;
  const answer = (roomCode: string, token: string, body: Record<string, unknown>) =>
    api(z.url, `/api/polls/${roomCode}/votes`, { body, token });
  const host = (poll: { roomCode: string; hostToken: string }, path: string) =>
    api(z.url, `/api/polls/${poll.roomCode}/questions/${path}`, { method: "POST", token: poll.hostToken });
  const results = (roomCode: string, query = "", token?: string) =>
    api(z.url, `/api/polls/${roomCode}/results${query}`, token ? { token } : {});

  it("creates a presentation: every question with its index, question 0 active", async () => {
    const res = await api(z.url, "/api/polls", { body: FIVE_QUESTIONS });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      title: "Team retro",
      activeQuestion: 0,
      questions: [
        { index: 0, type: "single", options: ["yes", "no"], allowVoteChange: false },
        { index: 1, type: "multiple", maxChoices: 2 },
        { index: 2, type: "rating", min: 1, max: 5, labels: { min: "bad", max: "great" } },
        { index: 3, type: "wordcloud", maxEntries: 2 },
        { index: 4, type: "open", moderation: "approve" },
      ],
      // The one-question fields describe the first question.
      question: "Ship it?",
      options: ["yes", "no"],
    });
    expect((await api(z.url, `/api/polls/${res.body.roomCode}`)).body).toMatchObject({
      activeQuestion: 0,
      questions: res.body.questions,
    });
  });

  it("refuses bad definitions naming the field", async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ questions: [] }, /at least one question/],
      [{ questions: [{ type: "poll", text: "x" }] }, /type must be one of/],
      [{ questions: [{ type: "rating", text: "x", min: 2, max: 5 }] }, /min must be 0 or 1/],
      [{ questions: [{ type: "multiple", text: "x", options: ["a", "b"], maxChoices: 3 }] }, /maxChoices/],
      [{ questions: [{ type: "wordcloud", text: "x", maxEntries: 6 }] }, /maxEntries must be at most 5/],
      [{ questions: [{ type: "open", text: "x".repeat(301) }] }, /text must be at most 300/],
      [
        { questions: Array.from({ length: 51 }, () => ({ type: "open", text: "x" })) },
        /at most 50 questions/,
      ],
    ];
    for (const [body, message] of bad) {
      const res = await api(z.url, "/api/polls", { body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
      expect(res.body.error.message).toMatch(message);
    }
  });

  it("takes each type's answer on its active question, and says what was recorded", async () => {
    const poll = await create();
    const token = await join(poll.roomCode, "ann");
    const step = async (i: number) => expect((await host(poll, `${i}/activate`)).status).toBe(200);

    expect((await answer(poll.roomCode, token, { optionIndex: 1 })).body).toEqual({
      questionIndex: 0,
      optionIndex: 1,
    });
    const early = await answer(poll.roomCode, token, { questionIndex: 1, optionIndexes: [0] });
    expect([early.status, early.body.error.code]).toEqual([409, "QUESTION_NOT_ACTIVE"]);

    await step(1);
    expect((await answer(poll.roomCode, token, { optionIndexes: [2, 0] })).body).toEqual({
      questionIndex: 1,
      optionIndexes: [0, 2],
    });
    await step(2);
    expect((await answer(poll.roomCode, token, { questionIndex: 2, value: 4 })).body).toEqual({
      questionIndex: 2,
      value: 4,
    });
    await step(3);
    expect((await answer(poll.roomCode, token, { entries: ["  Brave  Team ", "ÄRGER"] })).body).toEqual({
      questionIndex: 3,
      entries: ["brave team", "ärger"],
    });
    const again = await answer(poll.roomCode, token, { entries: ["more"] });
    expect([again.status, again.body.error.code]).toEqual([409, "ALREADY_ANSWERED"]);
    await step(4);
    const open = await answer(poll.roomCode, token, { text: "When is the demo?" });
    expect(open.body).toMatchObject({
      questionIndex: 4,
      answerId: expect.any(String),
      text: "When is the demo?",
    });

    expect((await results(poll.roomCode, "?question=0")).body).toMatchObject({
      questionIndex: 0,
      type: "single",
      counts: [0, 1],
      total: 1,
    });
    expect((await results(poll.roomCode, "?question=1")).body).toMatchObject({
      type: "multiple",
      counts: [1, 0, 1],
    });
    expect((await results(poll.roomCode, "?question=2")).body).toMatchObject({
      type: "rating",
      distribution: [0, 0, 0, 1, 0],
      average: 4,
      total: 1,
    });
    expect((await results(poll.roomCode, "?question=3")).body).toMatchObject({
      type: "wordcloud",
      words: [
        { text: "brave team", count: 1 },
        { text: "ärger", count: 1 },
      ],
      total: 1,
    });
    // Moderated: the room sees nothing until the host approves; the host sees the pending answer and its id.
    expect((await results(poll.roomCode)).body).toMatchObject({
      questionIndex: 4,
      type: "open",
      answers: [],
      total: 0,
    });
    const hostView = (await results(poll.roomCode, "", poll.hostToken)).body;
    expect(hostView.pending).toEqual([
      {
        id: open.body.answerId,
        text: "When is the demo?",
        nickname: "ann",
        createdAt: expect.any(String),
        status: "pending",
      },
    ]);
    const approved = await host(poll, `4/answers/${open.body.answerId}/approve`);
    expect(approved.body).toMatchObject({ answerId: open.body.answerId, status: "shown" });
    expect((await results(poll.roomCode)).body).toMatchObject({
      answers: [{ id: open.body.answerId, text: "When is the demo?", nickname: "ann" }],
      total: 1,
    });
    expect((await host(poll, `4/answers/${open.body.answerId}/remove`)).body.status).toBe("removed");
    expect((await results(poll.roomCode)).body).toMatchObject({ answers: [], total: 0 });

    // Back after a reload: the same participant, with every answer in the shape it was sent in.
    const back = await call(await client(), "join-poll", {
      roomCode: poll.roomCode,
      participantToken: token,
    });
    expect(back).toMatchObject({ ok: true, data: { nickname: "ann", yourVote: 1 } });
    expect(back.ok && back.data.yourAnswers).toEqual([
      { questionIndex: 0, optionIndex: 1 },
      { questionIndex: 1, optionIndexes: [0, 2] },
      { questionIndex: 2, value: 4 },
      { questionIndex: 3, entries: ["brave team", "ärger"] },
      {
        questionIndex: 4,
        answers: [{ answerId: open.body.answerId, text: "When is the demo?", status: "removed" }],
      },
    ]);
  });

  it("answers every bad answer with a clear error, never a crash", async () => {
    const poll = await create({
      questions: [
        { type: "wordcloud", text: "Words", maxEntries: 3 },
        { type: "open", text: "Say" },
        { type: "rating", text: "Rate", min: 0, max: 3 },
      ],
    });
    const tokens = await Promise.all(Array.from({ length: 12 }, (_, i) => join(poll.roomCode, `p${i}`)));
    const cases: Array<[Record<string, unknown>, number, string, RegExp?]> = [
      [{ entries: [] }, 400, "VALIDATION_FAILED", /entries/],
      [{ entries: [""] }, 400, "VALIDATION_FAILED", /entries.0/],
      [{ entries: ["ok", "bad\u0000word"] }, 400, "VALIDATION_FAILED", /entries.1/],
      [{ entries: ["x".repeat(10_000)] }, 400, "VALIDATION_FAILED", /at most 40/],
      [{ entries: ["Same", "same "] }, 400, "VALIDATION_FAILED", /different words/],
      [{ entries: ["a", "b", "c", "d"] }, 400, "VALIDATION_FAILED", /at most 3/],
      [{ entries: "word" }, 400, "VALIDATION_FAILED", /entries/],
      [{ optionIndex: 0 }, 400, "VALIDATION_FAILED", /optionIndex.*entries is required/],
      [{ text: "hi" }, 400, "VALIDATION_FAILED", /text/],
      [{ questionIndex: 9, entries: ["x"] }, 400, "VALIDATION_FAILED", /questionIndex/],
      [{ questionIndex: -1, entries: ["x"] }, 400, "VALIDATION_FAILED", /questionIndex/],
      [{ questionIndex: 1, text: "not active" }, 409, "QUESTION_NOT_ACTIVE"],
    ];
    for (const [i, [body, status, code, message]] of cases.entries()) {
      const res = await answer(poll.roomCode, tokens[i] as string, body);
      expect([res.status, res.body.error?.code], JSON.stringify(body).slice(0, 60)).toEqual([status, code]);
      if (message) expect(res.body.error.message).toMatch(message);
    }
    // Emoji, right-to-left text and SQL-looking text are words like any other, stored and counted verbatim.
    const fine = [["🎉", "שלום"], ["'; DROP TABLE word_counts; --"], ["🎉"]];
    for (const [i, entries] of fine.entries()) {
      const res = await answer(poll.roomCode, tokens[i] as string, { entries });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect((await results(poll.roomCode)).body.words).toEqual([
      { text: "🎉", count: 2 },
      { text: "'; drop table word_counts; --", count: 1 },
      { text: "שלום", count: 1 },
    ]);

    await host(poll, "1/activate");
    const t = tokens[11] as string;
    for (const text of ["one", "two", "three"])
      expect((await answer(poll.roomCode, t, { text })).status).toBe(200);
    const fourth = await answer(poll.roomCode, t, { text: "four" });
    expect([fourth.status, fourth.body.error.code]).toEqual([409, "ALREADY_ANSWERED"]);
    for (const text of ["", " ", "x".repeat(281), "bell\u0007"]) {
      const res = await answer(poll.roomCode, tokens[10] as string, { text });
      expect([res.status, res.body.error.code], text.slice(0, 10)).toEqual([400, "VALIDATION_FAILED"]);
    }

    await host(poll, "2/activate");
    for (const value of [-1, 4, 1.5, "2"]) {
      const res = await answer(poll.roomCode, tokens[9] as string, { value });
      expect(res.status, String(value)).toBe(400);
    }
    for (const path of ["9/activate", "x/activate", "-1/results/hide", "0/answers/not-a-uuid/approve"]) {
      const res = await host(poll, path);
      expect([res.status, res.body.error.code], path).toEqual([400, "VALIDATION_FAILED"]);
    }
    const wrongHost = await api(z.url, `/api/polls/${poll.roomCode}/questions/0/activate`, {
      method: "POST",
      token: "host_wrong",
    });
    expect(wrongHost.status).toBe(403);
    expect((await results(poll.roomCode, "?question=abc")).status).toBe(400);
    expect((await results(poll.roomCode, "", "host_wrong")).status).toBe(403);
  });

  it("moves every screen to the activated question and hides results from participants until revealed", async () => {
    const poll = await create();
    const hostSocket = await client();
    expect(
      await call(hostSocket, "host-join", { roomCode: poll.roomCode, hostToken: poll.hostToken }),
    ).toMatchObject({
      ok: true,
      data: { poll: { activeQuestion: 0, questions: [{ index: 0 }, { index: 1 }, {}, {}, {}] } },
    });
    const people = await Promise.all(Array.from({ length: 3 }, () => client()));
    for (const [i, p] of people.entries())
      expect(await call(p, "join-poll", { roomCode: poll.roomCode, nickname: `s${i}` })).toMatchObject({
        ok: true,
      });

    // Hide question 1 before it is active, then step to it over the socket.
    expect((await host(poll, "1/results/hide")).body).toMatchObject({
      questionIndex: 1,
      hidden: true,
      counts: [0, 0, 0],
    });
    const moved = await call(hostSocket, "host-activate", { hostToken: poll.hostToken, questionIndex: 1 });
    expect(moved).toMatchObject({
      ok: true,
      data: { poll: { activeQuestion: 1 }, results: { questionIndex: 1 } },
    });
    for (const p of people)
      await waitFor(async () => p.states.at(-1)?.activeQuestion === 1, {
        what: "poll-state with activeQuestion 1",
      });

    const before = people.map((p) => p.updates.length);
    for (const [i, p] of people.entries())
      expect(await call(p, "submit-vote", { optionIndexes: [i % 3] })).toMatchObject({ ok: true });
    await waitFor(async () => hostSocket.updates.at(-1)?.total === 3, { what: "host sees hidden answers" });
    expect(hostSocket.updates.at(-1)).toMatchObject({ questionIndex: 1, hidden: true, counts: [1, 1, 1] });
    const room = (await results(poll.roomCode)).body;
    expect(room).toMatchObject({ questionIndex: 1, type: "multiple", hidden: true });
    expect(room).not.toHaveProperty("counts");
    expect(room).not.toHaveProperty("total");
    expect((await results(poll.roomCode, "", poll.hostToken)).body).toMatchObject({
      counts: [1, 1, 1],
      total: 3,
    });
    for (const [i, p] of people.entries()) {
      const sent = p.updates.slice(before[i]).filter((u) => u.questionIndex === 1);
      expect(sent.every((u) => u.hidden && u.counts === undefined && u.total === undefined)).toBe(true);
    }

    const revealedAt = Date.now();
    const revealed = await call(hostSocket, "host-reveal-results", {
      hostToken: poll.hostToken,
      questionIndex: 1,
    });
    expect(revealed).toMatchObject({ ok: true, data: { hidden: false, counts: [1, 1, 1] } });
    for (const p of people)
      await waitFor(async () => p.updates.some((u) => u.questionIndex === 1 && !u.hidden && u.total === 3), {
        what: "revealed results",
        timeoutMs: 1000,
        intervalMs: 10,
      });
    expect(Date.now() - revealedAt).toBeLessThan(1000);
  });

  it("keeps a one-question poll in the original shapes", async () => {
    const poll = await create({ question: "Old?", options: ["a", "b"] });
    const token = await join(poll.roomCode, "old");
    expect((await answer(poll.roomCode, token, { optionIndex: 1 })).body).toEqual({ optionIndex: 1 });
    expect((await results(poll.roomCode)).body).toEqual({
      roomCode: poll.roomCode,
      counts: [0, 1],
      total: 1,
      participants: 1,
      online: 0,
    });
    expect((await results(poll.roomCode, "?question=0")).body).toMatchObject({
      questionIndex: 0,
      type: "single",
    });
  });
});
