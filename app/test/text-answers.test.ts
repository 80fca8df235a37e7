/**
 * zephyr_cast_words and zephyr_cast_open_answers (migration 007) against answering one by one, on PGlite and on
 * PostgreSQL 15: word clouds take one submission per participant and count each word once per submission, open
 * questions take up to the limit per participant, hold answers for approval when moderated, and list the newest
 * shown ones with nicknames.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Question } from "../src/domain/questions.js";
import { createPollStore } from "../src/storage/poll-store.js";
import { databaseBackends, insertParticipants, migratedDatabase, seededRandom } from "./storage-kit.js";

const backends = databaseBackends("texts");

interface Reply {
  poll: string;
  question?: string;
  outcomes?: string[];
  seq?: number;
  answered?: number;
  shown?: number;
  words?: Array<{ text: string; count: number }>;
  answers?: Array<{ id: string; text: string; nickname: string; createdAt: string }>;
}

describe.each(backends)("word clouds and open answers on %s", (_name, open) => {
  const db = migratedDatabase(open);

  /** A poll whose active question 1 is `question`; participants are named p0, p1, ... */
  async function pollWith(question: Question, people: number) {
    const id = randomUUID();
    await createPollStore(db()).insertPoll({
      id,
      roomCode: `T${id.slice(0, 5).toUpperCase()}`,
      questions: [{ type: "single", text: "first", options: ["a", "b"], allowVoteChange: false }, question],
      hostTokenHash: "h",
    });
    await db().query("UPDATE polls SET active_question = 1 WHERE id = $1", [id]);
    const participants = Array.from({ length: people }, () => randomUUID());
    await insertParticipants(db(), id, participants);
    return { id, participants };
  }

  /** The cast's reply with its results (migration 008) read alongside the outcomes. */
  const call = async (sql: string, params: unknown[]): Promise<Reply> => {
    const [row] = await db().query<{ reply: unknown }>(sql, params);
    const reply = (typeof row?.reply === "string" ? JSON.parse(row.reply) : row?.reply) as Reply & {
      results?: Omit<Reply, "poll">;
    };
    return { ...reply, ...reply.results };
  };
  const castWords = (pollId: string, question: number, subs: Array<[string, string[]]>) =>
    call("SELECT zephyr_cast_words($1, $2::smallint, $3::uuid[], $4::jsonb) AS reply", [
      pollId,
      question,
      subs.map((s) => s[0]),
      JSON.stringify(subs.map((s) => s[1])),
    ]);
  const castOpen = (pollId: string, answers: Array<[string, string]>, limit = 3) =>
    call(
      "SELECT zephyr_cast_open_answers($1, 1::smallint, $2::uuid[], $3::uuid[], $4::text[], $5) AS reply",
      [pollId, answers.map(() => randomUUID()), answers.map((a) => a[0]), answers.map((a) => a[1]), limit],
    );

  it.each([1, 2, 3])("word cloud batches match submitting one by one (seed %i)", async (seed) => {
    const next = seededRandom(seed);
    const vocabulary = ["sky", "blue", "sea", "green", "sun", "rain", "wind"];
    const poll = await pollWith({ type: "wordcloud", text: "w", maxEntries: 3 }, 15);
    const submitted = new Set<string>();
    const counts = new Map<string, number>();
    for (let round = 0; round < 5; round++) {
      const subs: Array<[string, string[]]> = Array.from({ length: 1 + next(8) }, () => {
        const words = [...new Set(Array.from({ length: 1 + next(3) }, () => vocabulary[next(7)] as string))];
        return [poll.participants[next(15)] as string, words];
      });
      const expected = subs.map(([pid, words]) => {
        if (submitted.has(pid)) return "already-answered";
        submitted.add(pid);
        for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
        return "created";
      });
      const reply = await castWords(poll.id, 1, subs);
      expect(reply.outcomes).toEqual(expected);
      const top = [...counts]
        .map(([text, count]) => ({ text, count }))
        .sort((a, b) => b.count - a.count || (a.text < b.text ? -1 : 1));
      if (reply.words) expect(reply).toMatchObject({ words: top, answered: submitted.size });
    }
    const stored = await db().query<{ word: string; count: number }>(
      "SELECT word, count FROM word_counts WHERE poll_id = $1 ORDER BY word",
      [poll.id],
    );
    expect(new Map(stored.map((r) => [r.word, Number(r.count)]))).toEqual(new Map([...counts].sort()));
  });

  it("shows the top 100 words by count, ties by text", async () => {
    const poll = await pollWith({ type: "wordcloud", text: "w", maxEntries: 5 }, 60);
    const subs: Array<[string, string[]]> = poll.participants.map((pid, i) => [
      pid,
      Array.from({ length: 5 }, (_, k) => `w${String((i * 5 + k) % 150).padStart(3, "0")}`),
    ]);
    const reply = await castWords(poll.id, 1, subs);
    expect(reply.words).toHaveLength(100);
    // 300 entries over 150 words: each word twice, so ties everywhere and text decides.
    expect(reply.words?.slice(0, 3)).toEqual([
      { text: "w000", count: 2 },
      { text: "w001", count: 2 },
      { text: "w002", count: 2 },
    ]);
    expect(reply.answered).toBe(60);
  });

  it("refuses word entries for a question of another type or not active", async () => {
    const poll = await pollWith({ type: "open", text: "o", moderation: "none" }, 1);
    expect(await castWords(poll.id, 1, [[poll.participants[0] as string, ["x"]]])).toEqual({
      poll: "open",
      question: "not-active",
    });
    expect(await castWords(poll.id, 0, [[poll.participants[0] as string, ["x"]]])).toEqual({
      poll: "open",
      question: "not-active",
    });
  });

  it("takes up to the limit of open answers per participant and lists the newest shown with nicknames", async () => {
    const poll = await pollWith({ type: "open", text: "o", moderation: "none" }, 3);
    const [a, b] = poll.participants as [string, string];
    const first = await castOpen(poll.id, [
      [a, "one"],
      [a, "two"],
      [b, "hello"],
      [a, "three"],
      [a, "four"],
    ]);
    expect(first.outcomes).toEqual(["created", "created", "created", "created", "limit"]);
    expect(first).toMatchObject({ shown: 4, answered: 2 });
    expect(first.answers?.map((x) => `${x.nickname}:${x.text}`)).toEqual([
      "p0:three",
      "p1:hello",
      "p0:two",
      "p0:one",
    ]);
    expect((await castOpen(poll.id, [[a, "five"]])).outcomes).toEqual(["limit"]);
    const more = await castOpen(
      poll.id,
      Array.from({ length: 60 }, (_, i) => [
        poll.participants[i % 3] === a ? b : (poll.participants[2] as string),
        `m${i}`,
      ]),
      100,
    );
    expect(more.answers).toHaveLength(50);
    expect(more.answers?.[0]?.text).toBe("m59");
    expect(more.shown).toBe(64);
  });

  it("holds moderated answers as pending: counted as answered, not shown", async () => {
    const poll = await pollWith({ type: "open", text: "o", moderation: "approve" }, 2);
    const reply = await castOpen(poll.id, [[poll.participants[0] as string, "needs a look"]]);
    expect(reply).toMatchObject({ outcomes: ["created"], shown: 0, answered: 1, answers: [] });
    const [row] = await db().query<{ status: string }>("SELECT status FROM open_answers WHERE poll_id = $1", [
      poll.id,
    ]);
    expect(row?.status).toBe("pending");
  });
});
