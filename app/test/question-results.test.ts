/**
 * Results of every question type read back from the counters the casts keep, on PGlite and PostgreSQL 15: what
 * was answered through the cast functions is what the results say, and only the host sees pending open answers.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveView } from "../src/domain/poll.js";
import { validatePollDefinition } from "../src/domain/questions.js";
import type { Database } from "../src/storage/database.js";
import { migrate } from "../src/storage/migrations/index.js";
import { createPollStore } from "../src/storage/poll-store.js";
import { averageOf, createResultsStore } from "../src/storage/results-store.js";
import { databaseBackends, insertParticipants } from "./storage-kit.js";

const backends = databaseBackends("qresults");

describe("averageOf", () => {
  it("weighs each scale value by its count, null before any answer", () => {
    expect(averageOf([0, 0, 0], 1)).toBeNull();
    expect(averageOf([1, 0, 3], 1)).toBe(2.5);
    expect(averageOf([2, 1], 0)).toBe(0.33);
  });
});

describe.each(backends)("question results on %s", (_name, open) => {
  let db: Database;
  let pollId: string;
  const people = Array.from({ length: 4 }, () => randomUUID());
  const activate = (i: number) =>
    db.query("UPDATE polls SET active_question = $2 WHERE id = $1", [pollId, i]);
  const fn = (sql: string, params: unknown[]) => db.query(sql, params);

  beforeAll(async () => {
    db = await open();
    await migrate(db);
    pollId = randomUUID();
    const definition = validatePollDefinition({
      questions: [
        { type: "single", text: "s", options: ["a", "b"] },
        { type: "multiple", text: "m", options: ["a", "b", "c"] },
        { type: "rating", text: "r", min: 1, max: 5 },
        { type: "wordcloud", text: "w" },
        { type: "open", text: "o", moderation: "approve" },
      ],
    });
    await createPollStore(db).insertPoll({
      id: pollId,
      roomCode: "QRESUL",
      ...definition,
      hostTokenHash: "h",
    });
    await insertParticipants(db, pollId, people);
    const cast = "SELECT zephyr_cast_choices($1, $2::smallint, $3::uuid[], $4::integer[])";
    await fn(cast, [pollId, 0, people, [1, 2, 2, 2]]);
    await activate(1);
    await fn(cast, [pollId, 1, people, [0b011, 0b110, 0b111, 0b001]]);
    await activate(2);
    // ratings 1, 5, 5, 3: positions 0, 4, 4, 2
    await fn(cast, [pollId, 2, people, [1 << 0, 1 << 4, 1 << 4, 1 << 2]]);
    await activate(3);
    await fn("SELECT zephyr_cast_words($1, 3::smallint, $2::uuid[], $3::jsonb)", [
      pollId,
      people.slice(0, 3),
      JSON.stringify([["sky", "sea"], ["sea"], ["sun", "sea", "sky"]]),
    ]);
    await activate(4);
    await fn("SELECT zephyr_cast_open_answers($1, 4::smallint, $2::uuid[], $3::uuid[], $4::text[], 3)", [
      pollId,
      [randomUUID(), randomUUID()],
      people.slice(0, 2),
      ["first", "second"],
    ]);
    // The host approved the first one.
    await fn("UPDATE open_answers SET status = 'shown' WHERE poll_id = $1 AND text = 'first'", [pollId]);
    await fn("UPDATE questions SET shown_count = 1 WHERE poll_id = $1 AND position = 4", [pollId]);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  const snapshot = async (i: number) => {
    const s = await createResultsStore(db).snapshot(pollId, i);
    if (!s) throw new Error(`no snapshot of question ${i}`);
    return s;
  };
  const read = async (i: number) => (await snapshot(i)).results;

  it("single and multiple: counts per option, total = participants who answered", async () => {
    expect(await read(0)).toEqual({ type: "single", counts: [1, 3], total: 4 });
    expect(await read(1)).toEqual({ type: "multiple", counts: [3, 3, 2], total: 4 });
  });

  it("rating: distribution over min..max and the average", async () => {
    expect(await read(2)).toEqual({ type: "rating", distribution: [1, 0, 1, 0, 2], average: 3.5, total: 4 });
  });

  it("word cloud: words by count, ties by text", async () => {
    expect(await read(3)).toEqual({
      type: "wordcloud",
      words: [
        { text: "sea", count: 3 },
        { text: "sky", count: 2 },
        { text: "sun", count: 1 },
      ],
      total: 3,
    });
  });

  it("open: participants see shown answers only, the host also pending ones with their status", async () => {
    const room = await read(4);
    expect(room).toMatchObject({ type: "open", total: 1, answers: [{ text: "first", nickname: "p0" }] });
    const host = liveView(await snapshot(4), 0, "host");
    expect([...(host.answers ?? []), ...(host.pending ?? [])].map((a) => `${a.text}:${a.status}`)).toEqual([
      "first:shown",
      "second:pending",
    ]);
    expect(liveView(await snapshot(4), 0, "room")).not.toHaveProperty("pending");
  });
});
