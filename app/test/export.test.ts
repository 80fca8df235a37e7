/**
 * GET /api/polls/:roomCode/export.csv over real HTTP on PGlite and PostgreSQL 15: host only, RFC 4180 with a BOM,
 * one row per answer with nickname and time, tallies equal to the results while votes keep arriving, hostile
 * text kept as text (quotes, commas, line breaks, RTL, emoji, would-be formulas), every question type of a
 * presentation exported while it is answered, and pages that stream a poll larger than one page.
 */
import { randomUUID } from "node:crypto";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { requireServices } from "../../test/services.js";
import { api, type RunningZephyr, startZephyr } from "../../test/zephyr.js";
import { validatePollDefinition } from "../src/domain/questions.js";
import { exportRows } from "../src/storage/export-store.js";
import { migrate } from "../src/storage/migrations/index.js";
import { createPgliteDatabase } from "../src/storage/pglite.js";
import { createPollStore } from "../src/storage/poll-store.js";
import { type Answers, answersFor, FIVE_QUESTIONS } from "./presentation-kit.js";
import { insertParticipants } from "./storage-kit.js";

const pgUrl = inject("postgresUrl");
const backends: Array<[string, Record<string, string>]> = [["PGlite (embedded)", {}]];
if (requireServices("postgres") && pgUrl) backends.push(["PostgreSQL 15", { DATABASE_URL: pgUrl }]);

const HEADER = ["question_index", "type", "question", "nickname", "answer", "status", "answered_at"];

describe.each(backends)("CSV export on %s", (_name, env) => {
  let z: RunningZephyr;
  beforeAll(async () => {
    z = await startZephyr({ ...env, RATE_LIMIT_JOIN: "100000", RATE_LIMIT_VOTE: "100000" });
  });
  afterAll(() => z?.stop());

  const exportCsv = async (roomCode: string, token?: string) => {
    const res = await fetch(`${z.url}/api/polls/${roomCode}/export.csv`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    // ignoreBOM keeps the byte-order mark in the text, where the assertions below look for it.
    return { res, bytes, text: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes) };
  };

  it("is the host's only", async () => {
    const poll = (await api(z.url, "/api/polls", { body: { question: "q", options: ["a", "b"] } })).body;
    expect((await exportCsv(poll.roomCode)).res.status).toBe(401);
    const wrong = await exportCsv(poll.roomCode, "host_wrong");
    expect(wrong.res.status).toBe(403);
    expect(JSON.parse(wrong.text).error.code).toBe("FORBIDDEN");
    expect((await exportCsv("ZZZZZZ", poll.hostToken)).res.status).toBe(404);
  });

  it("exports every answer while the poll is live, tallies equal to the results", async () => {
    const poll = (
      await api(z.url, "/api/polls", {
        body: {
          question: 'Lunch, "really"?',
          options: ["=1+1", "Pizza, hot", "سلطة 🥗"],
          allowVoteChange: true,
        },
      })
    ).body;
    const nicknames = ['Ann "A"', "Bob, Jr.", "مريم", "@dmin", "Zoë 🦊"];
    const people: Array<{ participantToken: string }> = [];
    for (const nickname of nicknames)
      people.push(
        (await api(z.url, `/api/polls/${poll.roomCode}/participants`, { body: { nickname } })).body,
      );
    const vote = (i: number, optionIndex: number) =>
      api(z.url, `/api/polls/${poll.roomCode}/votes`, {
        body: { optionIndex },
        token: people[i]?.participantToken,
      });
    for (let i = 0; i < people.length; i++) expect((await vote(i, i % 3)).status).toBe(200);
    // Votes keep changing while the export is read.
    const live = Promise.all(people.map((_, i) => vote(i, (i + 1) % 3)));
    const { res, bytes, text } = await exportCsv(poll.roomCode, poll.hostToken);
    await live;
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="zephyr-${poll.roomCode}.csv"`);
    expect([...bytes.slice(0, 3)], "UTF-8 byte-order mark").toEqual([0xef, 0xbb, 0xbf]);
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const rows: string[][] = parse(text, { bom: true });
    expect(rows[0]).toEqual(HEADER);
    const body = rows.slice(1);
    expect(body).toHaveLength(5);
    for (const r of body) {
      expect(r[0]).toBe("0");
      expect(r[1]).toBe("single");
      expect(r[2]).toBe('Lunch, "really"?');
      expect(Number.isNaN(Date.parse(r[6] as string))).toBe(false);
    }
    expect(body.map((r) => r[3]).sort()).toEqual(
      ["'@dmin", ...nicknames.filter((n) => n !== "@dmin")].sort(),
    );
    // The export is one consistent moment per row: each answer is the old or the new vote of its participant.
    const labels = ["'=1+1", "Pizza, hot", "سلطة 🥗"];
    const results = (await api(z.url, `/api/polls/${poll.roomCode}/results`)).body;
    const after = await exportCsv(poll.roomCode, poll.hostToken);
    const tally = labels.map(
      (l) => parse(after.text, { bom: true }).filter((r: string[]) => r[4] === l).length,
    );
    expect(tally).toEqual(results.counts);
    expect(tally.reduce((a: number, b: number) => a + b, 0)).toBe(results.total);
  });

  it("exports a five-question presentation while it is answered, each question's tallies equal to its results", async () => {
    const poll = (await api(z.url, "/api/polls", { body: FIVE_QUESTIONS })).body;
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++)
      tokens.push(
        (await api(z.url, `/api/polls/${poll.roomCode}/participants`, { body: { nickname: `n${i}` } })).body
          .participantToken,
      );
    const midRun: string[][][] = [];
    const answerIds: string[] = [];
    for (let q = 0; q < FIVE_QUESTIONS.questions.length; q++) {
      if (q > 0)
        await api(z.url, `/api/polls/${poll.roomCode}/questions/${q}/activate`, {
          method: "POST",
          token: poll.hostToken,
        });
      const answers = answersFor(q, tokens.length, 3);
      // Everyone answers while an export is being read.
      const [, during] = await Promise.all([
        Promise.all(
          tokens.map(async (token, i) => {
            for (const a of answers[i] as Answers) {
              const r = await api(z.url, `/api/polls/${poll.roomCode}/votes`, { body: a, token });
              expect(r.status, JSON.stringify(r.body)).toBe(200);
              if (r.body.answerId) answerIds.push(r.body.answerId);
            }
          }),
        ),
        exportCsv(poll.roomCode, poll.hostToken),
      ]);
      midRun.push(parse(during.text, { bom: true }));
    }
    for (const id of answerIds.slice(0, 5))
      await api(z.url, `/api/polls/${poll.roomCode}/questions/4/answers/${id}/approve`, {
        method: "POST",
        token: poll.hostToken,
      });
    for (const rows of midRun) expect(rows[0]).toEqual(HEADER);

    const rows: string[][] = parse((await exportCsv(poll.roomCode, poll.hostToken)).text, {
      bom: true,
    }).slice(1);
    const of = (q: number) => rows.filter((r) => r[0] === String(q));
    const tally = (q: number, keys: string[]) => keys.map((k) => of(q).filter((r) => r[4] === k).length);
    const results = async (q: number) =>
      (await api(z.url, `/api/polls/${poll.roomCode}/results?question=${q}`)).body;
    expect(tally(0, ["yes", "no"])).toEqual((await results(0)).counts);
    expect(tally(1, ["tests", "docs", "demo"])).toEqual((await results(1)).counts);
    expect(tally(2, ["1", "2", "3", "4", "5"])).toEqual((await results(2)).distribution);
    const words = (await results(3)).words as Array<{ text: string; count: number }>;
    expect(words.length).toBeGreaterThan(3);
    for (const w of words) expect(of(3).filter((r) => r[4] === w.text).length, w.text).toBe(w.count);
    expect(of(3).length).toBe(words.reduce((a, w) => a + w.count, 0));
    expect(of(4).length).toBe(answerIds.length);
    expect(of(4).filter((r) => r[5] === "shown").length).toBe((await results(4)).total);
    expect(of(4).filter((r) => r[5] === "pending").length).toBe(answerIds.length - 5);
    for (const [q, type] of ["single", "multiple", "rating", "wordcloud", "open"].entries())
      for (const r of of(q)) expect(r[1]).toBe(type);
  });
});

describe("export pages", () => {
  it("streams a poll across many pages in order, each answer once", async () => {
    const db = await createPgliteDatabase();
    try {
      await migrate(db);
      const pollId = randomUUID();
      await createPollStore(db).insertPoll({
        id: pollId,
        roomCode: "PAGESX",
        ...validatePollDefinition({
          questions: [
            { type: "multiple", text: "m", options: ["a", "b", "c"] },
            { type: "wordcloud", text: "w" },
          ],
        }),
        hostTokenHash: "h",
      });
      const people = Array.from({ length: 7 }, () => randomUUID());
      await insertParticipants(db, pollId, people);
      await db.query("SELECT zephyr_cast_choices($1, 0::smallint, $2::uuid[], $3::integer[])", [
        pollId,
        people,
        people.map((_, i) => 1 + (i % 7)),
      ]);
      await db.query("UPDATE polls SET active_question = 1 WHERE id = $1", [pollId]);
      await db.query("SELECT zephyr_cast_words($1, 1::smallint, $2::uuid[], $3::jsonb)", [
        pollId,
        people,
        JSON.stringify(people.map((_, i) => (i % 2 ? ["sky", "sea"] : ["sun"]))),
      ]);
      const rows = [];
      for await (const r of exportRows(db, pollId, 2)) rows.push(r);
      // masks 1..7 over 7 people: 12 chosen options; words: 3 people x 2 + 4 x 1 = 10 entries
      expect(rows.filter((r) => r.questionIndex === 0)).toHaveLength(12);
      expect(rows.filter((r) => r.questionIndex === 1)).toHaveLength(10);
      const keys = rows.map((r) => `${r.questionIndex}|${r.nickname}|${r.answer}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(rows.filter((r) => r.answer === "sea").length).toBe(3);
    } finally {
      await db.close();
    }
  });
});
