/**
 * zephyr_cast_choices (migration 006): answers to one question as sets of options (single = one option, multiple =
 * several, rating = one scale value), checked against answering one by one in submission order, on PGlite and
 * on PostgreSQL 15. Also: a database built and filled by the migrations before 006 keeps its polls, votes and
 * results once 006 is applied, and the single-question call older instances make still works on it.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isAppError } from "../src/domain/errors.js";
import { validatePollDefinition } from "../src/domain/questions.js";
import { createLogger } from "../src/logging/index.js";
import { migrate, migrations } from "../src/storage/migrations/index.js";
import { createPollStore } from "../src/storage/poll-store.js";
import { createResultsStore } from "../src/storage/results-store.js";
import { createVoteWriter } from "../src/votes/writer.js";
import {
  answerOneByOne,
  databaseBackends,
  insertParticipants,
  migratedDatabase,
  seededRandom,
} from "./storage-kit.js";

const bits = (mask: number) => Array.from({ length: 16 }, (_, i) => i).filter((i) => mask & (1 << i));

const backends = databaseBackends("choices");

describe.each(backends)("choice answers on %s", (_name, open) => {
  const db = migratedDatabase(open);

  /** A poll whose active question 1 has `options` options (question 0 is the usual single choice). */
  async function newQuestion(
    type: "multiple" | "rating",
    options: number,
    allowChange: boolean,
    people: number,
  ) {
    const id = randomUUID();
    await createPollStore(db()).insertPoll({
      id,
      roomCode: `C${id.slice(0, 5).toUpperCase()}`,
      questions: [
        { type: "single", text: "first", options: ["a", "b"], allowVoteChange: false },
        type === "multiple"
          ? {
              type,
              text: "q",
              options: Array.from({ length: options }, (_, i) => `o${i}`),
              maxChoices: options,
              allowVoteChange: allowChange,
            }
          : { type, text: "q", min: 0, max: options - 1, allowVoteChange: allowChange },
      ],
      hostTokenHash: randomUUID(),
    });
    await db().query("UPDATE polls SET active_question = 1 WHERE id = $1", [id]);
    const participants = Array.from({ length: people }, () => randomUUID());
    await insertParticipants(db(), id, participants);
    return { id, participants };
  }

  const cast = async (pollId: string, question: number, answers: Array<[string, number]>) => {
    const [row] = await db().query<{ reply: unknown }>(
      "SELECT zephyr_cast_choices($1, $2::smallint, $3::uuid[], $4::integer[]) AS reply",
      [pollId, question, answers.map((a) => a[0]), answers.map((a) => a[1])],
    );
    const reply = row?.reply;
    return (typeof reply === "string" ? JSON.parse(reply) : reply) as {
      poll: string;
      question?: string;
      outcomes?: string[];
      counts?: number[];
      answered?: number;
      seq?: number;
    };
  };

  async function storedAnswers(pollId: string, question: number) {
    const rows = await db().query<{ participant_id: string; mask: number }>(
      "SELECT participant_id, bit_or(1 << option_position) AS mask FROM votes WHERE poll_id = $1 AND question_position = $2 GROUP BY participant_id",
      [pollId, question],
    );
    return new Map(rows.map((r) => [r.participant_id, Number(r.mask)]));
  }

  async function countsOf(pollId: string, question: number) {
    const rows = await db().query<{ vote_count: number }>(
      "SELECT vote_count FROM poll_options WHERE poll_id = $1 AND question_position = $2 ORDER BY position",
      [pollId, question],
    );
    const [q] = await db().query<{ answer_count: number }>(
      "SELECT answer_count FROM questions WHERE poll_id = $1 AND position = $2",
      [pollId, question],
    );
    return { counts: rows.map((r) => Number(r.vote_count)), answered: Number(q?.answer_count) };
  }

  const cases: Array<["multiple" | "rating", number, boolean, number]> = [
    ["multiple", 5, true, 1],
    ["multiple", 10, true, 2],
    ["multiple", 4, false, 3],
    ["rating", 11, true, 4],
    ["rating", 5, false, 5],
  ];
  it.each(cases)(
    "%s with %i options (changes %s, seed %i) matches answering one by one",
    async (type, n, allow, seed) => {
      const next = seededRandom(seed);
      const poll = await newQuestion(type, n, allow, 12);
      let expected = new Map<string, number>();
      for (let round = 0; round < 6; round++) {
        const answers: Array<[string, number]> = Array.from({ length: 1 + next(25) }, () => {
          const pid = poll.participants[next(poll.participants.length)] as string;
          // rating: one value; multiple: any non-empty set, small ones often so answers repeat
          const mask = type === "rating" ? 1 << next(n) : 1 + next(next(2) ? 3 : (1 << n) - 1);
          return [pid, mask];
        });
        const ref = answerOneByOne(expected, answers, allow, "not-allowed");
        const reply = await cast(poll.id, 1, answers);
        expect(reply.outcomes).toEqual(ref.outcomes);
        expected = ref.state;
        expect(await storedAnswers(poll.id, 1)).toEqual(expected);
        const counts = Array.from({ length: n }, () => 0);
        for (const mask of expected.values()) for (const b of bits(mask)) counts[b] = (counts[b] ?? 0) + 1;
        expect(await countsOf(poll.id, 1)).toEqual({ counts, answered: expected.size });
        if (reply.counts) expect(reply).toMatchObject({ counts, answered: expected.size });
      }
      // question 0 was never touched
      expect(await countsOf(poll.id, 0)).toEqual({ counts: [0, 0], answered: 0 });
    },
  );

  it("through the vote writer: one batch per question, the inactive one refused with QUESTION_NOT_ACTIVE", async () => {
    const poll = await newQuestion("multiple", 4, true, 6);
    const batches: number[] = [];
    const writer = createVoteWriter({
      store: createResultsStore(db()),
      results: { committed() {} },
      logger: createLogger({ level: "silent" }),
      windowMs: 50,
      onBatch: (n) => batches.push(n),
    });
    const submit = (questionIndex: number, pid: string, mask: number) =>
      writer.submit({
        pollId: poll.id,
        roomCode: "X",
        questionIndex,
        participantId: pid,
        answer: { kind: "choice", mask },
        receivedAt: 0,
      });
    const settled = await Promise.allSettled([
      ...poll.participants.map((pid, i) => submit(1, pid, 0b11 << (i % 3))),
      submit(0, poll.participants[0] as string, 1),
    ]);
    await writer.flush();
    expect(batches.sort()).toEqual([1, 6]);
    expect(settled.slice(0, 6).map((r) => r.status === "fulfilled" && r.value)).toEqual(
      Array(6).fill("created"),
    );
    const refused = settled[6];
    expect(refused?.status === "rejected" && isAppError(refused.reason) && refused.reason.code).toBe(
      "QUESTION_NOT_ACTIVE",
    );
    expect(await countsOf(poll.id, 1)).toEqual({ counts: [2, 4, 4, 2], answered: 6 });
  });

  it("stores a presentation with every question type and reads it back as defined", async () => {
    const definition = validatePollDefinition({
      title: "All hands",
      questions: [
        { type: "single", text: "One?", options: ["a", "b"], allowVoteChange: true },
        { type: "multiple", text: "Some?", options: ["a", "b", "c"], maxChoices: 2 },
        { type: "rating", text: "How much?", min: 1, max: 5, labels: { min: "low", max: "high" } },
        { type: "wordcloud", text: "A word?", maxEntries: 2 },
        { type: "open", text: "Anything?", moderation: "approve" },
      ],
    });
    const id = randomUUID();
    const roomCode = `S${id.slice(0, 5).toUpperCase()}`;
    const store = createPollStore(db());
    await store.insertPoll({ id, roomCode, ...definition, hostTokenHash: "h" });
    const poll = await store.findPollByCode(roomCode);
    expect(poll).toMatchObject({
      title: "All hands",
      questions: definition.questions,
      activeQuestion: 0,
      question: "One?",
      options: ["a", "b"],
      allowVoteChange: true,
    });
    const labels = await db().query<{ question_position: number; label: string }>(
      "SELECT question_position, label FROM poll_options WHERE poll_id = $1 ORDER BY question_position, position",
      [id],
    );
    expect(labels.map((l) => `${l.question_position}:${l.label}`)).toEqual([
      "0:a",
      "0:b",
      "1:a",
      "1:b",
      "1:c",
      "2:1",
      "2:2",
      "2:3",
      "2:4",
      "2:5",
    ]);
  });

  it("refuses answers to a question that is not active, and unknown polls", async () => {
    const poll = await newQuestion("multiple", 3, true, 2);
    expect(await cast(poll.id, 0, [[poll.participants[0] as string, 1]])).toEqual({
      poll: "open",
      question: "not-active",
    });
    expect(await cast(randomUUID(), 1, [[poll.participants[0] as string, 1]])).toEqual({ poll: "missing" });
    expect(await storedAnswers(poll.id, 0)).toEqual(new Map());
  });
});

describe.each(backends)("upgrading a filled database to questions on %s", (_name, open) => {
  it("keeps polls, votes and results, and the single-question call still counts", async () => {
    const db = await open();
    try {
      const before = migrations.filter((m) => m.version < 6);
      await migrate(db, undefined, before);
      const pollId = randomUUID();
      await db.query(
        "INSERT INTO polls (id, room_code, question, allow_vote_change, host_token_hash) VALUES ($1, 'UPGRAD', 'Old?', true, 'h')",
        [pollId],
      );
      await db.query(
        "INSERT INTO poll_options (poll_id, position, label) VALUES ($1, 0, 'x'), ($1, 1, 'y')",
        [pollId],
      );
      const people = [randomUUID(), randomUUID(), randomUUID()];
      await db.query("SELECT zephyr_add_participants($1, $2::uuid[], $3::text[], $4::text[], 100)", [
        pollId,
        people,
        ["a", "b", "c"],
        people.map((p) => `t${p}`),
      ]);
      await db.query("SELECT zephyr_cast_votes($1, $2::uuid[], $3::smallint[])", [pollId, people, [0, 1, 1]]);

      expect((await migrate(db)).applied).toEqual(
        migrations.filter((m) => m.version >= 6).map((m) => m.version),
      );
      const poll = await createPollStore(db).findPollByCode("UPGRAD");
      expect(poll).toMatchObject({
        question: "Old?",
        options: ["x", "y"],
        allowVoteChange: true,
        status: "open",
      });
      const results = createResultsStore(db);
      expect(await results.snapshot(pollId)).toMatchObject({
        results: { type: "single", counts: [1, 2], total: 3 },
        participants: 3,
      });
      expect(await createPollStore(db).voteOf(pollId, people[1] as string)).toBe(1);
      const [q] = await db.query<{ type: string; answer_count: number }>(
        "SELECT type, answer_count FROM questions WHERE poll_id = $1 AND position = 0",
        [pollId],
      );
      expect(q).toMatchObject({ type: "single", answer_count: 3 });
      // An instance still on the previous release calls zephyr_cast_votes during a rolling update.
      await db.query("SELECT zephyr_cast_votes($1, $2::uuid[], $3::smallint[])", [pollId, [people[0]], [1]]);
      expect(await results.snapshot(pollId)).toMatchObject({ results: { counts: [0, 3], total: 3 } });
      expect(await createPollStore(db).rebuildCounts(pollId)).toEqual([0, 3]);
    } finally {
      await db.close();
    }
  });
});
