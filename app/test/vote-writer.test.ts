/**
 * zephyr_cast_votes (migration 003) against a plain reference: votes applied one by one in submission order.
 * Random batches repeat participants, mix changes and no-ops, and run on polls with and without vote changes,
 * on PGlite and on PostgreSQL 15. Every outcome, every stored vote, every counter and the snapshot must match.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isAppError } from "../src/domain/errors.js";
import type { ResultsSnapshot } from "../src/domain/poll.js";
import { createLogger } from "../src/logging/index.js";
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

const backends = databaseBackends("writer");

describe.each(backends)("vote batches on %s", (_name, open) => {
  const db = migratedDatabase(open);
  const logger = createLogger({ level: "silent" });

  async function newPoll(options: number, allowVoteChange: boolean, participants: number) {
    const id = randomUUID();
    await createPollStore(db()).insertPoll({
      id,
      roomCode: `W${id.slice(0, 5).toUpperCase()}`,
      questions: [
        {
          type: "single",
          text: "?",
          options: Array.from({ length: options }, (_, i) => `o${i}`),
          allowVoteChange,
        },
      ],
      hostTokenHash: randomUUID(),
    });
    const ids: string[] = Array.from({ length: participants }, () => randomUUID());
    await insertParticipants(db(), id, ids);
    // Bulk-inserted past the join path, so its counter is set here.
    await db().query("UPDATE polls SET participant_count = $2 WHERE id = $1", [id, participants]);
    return { id, roomCode: `W${id.slice(0, 5).toUpperCase()}`, participants: ids };
  }

  async function countsOf(pollId: string) {
    const results = (await createResultsStore(db()).snapshot(pollId))?.results;
    return results && "counts" in results ? results.counts : undefined;
  }

  async function storedVotes(pollId: string) {
    const rows = await db().query<{ participant_id: string; option_position: number }>(
      "SELECT participant_id, option_position FROM votes WHERE poll_id = $1",
      [pollId],
    );
    return new Map(rows.map((r) => [r.participant_id, Number(r.option_position)]));
  }

  /** Submits every vote before the writer's window closes, so they go to the database as one batch. */
  async function castBatch(poll: { id: string; roomCode: string }, votes: Array<[string, number]>) {
    const snapshots: ResultsSnapshot[] = [];
    const batches: number[] = [];
    const writer = createVoteWriter({
      store: createResultsStore(db()),
      results: { committed: (s) => snapshots.push(s) },
      logger,
      windowMs: 50,
      onBatch: (n) => batches.push(n),
    });
    const settled = await Promise.allSettled(
      votes.map(([participantId, optionIndex]) =>
        writer.submit({
          pollId: poll.id,
          roomCode: poll.roomCode,
          questionIndex: 0,
          participantId,
          answer: { kind: "choice", mask: 1 << optionIndex },
          receivedAt: Date.now(),
        }),
      ),
    );
    await writer.flush();
    const outcomes = settled.map((r) =>
      r.status === "fulfilled" ? r.value : isAppError(r.reason) ? r.reason.code : String(r.reason),
    );
    return { outcomes, snapshots, batches };
  }

  it.each([
    [true, 1],
    [true, 2],
    [true, 3],
    [false, 4],
    [false, 5],
    [false, 6],
  ])("matches one-by-one voting (allowVoteChange=%s, seed %i)", async (allowVoteChange, seed) => {
    const next = seededRandom(seed);
    const options = 2 + next(3);
    const poll = await newPoll(options, allowVoteChange, 12);
    let expectedSeq = 0;
    for (let round = 0; round < 5; round++) {
      const stored = await storedVotes(poll.id);
      // Few participants, many votes: most batches repeat participants several times.
      const votes = Array.from(
        { length: 1 + next(40) },
        () =>
          [poll.participants[next(poll.participants.length)] as string, next(options)] as [string, number],
      );
      const want = answerOneByOne(stored, votes, allowVoteChange, "VOTE_CHANGE_NOT_ALLOWED");
      const got = await castBatch(poll, votes);
      expect(got.batches, "all votes in one batch").toEqual([votes.length]);
      expect(got.outcomes).toEqual(want.outcomes);
      expect(await storedVotes(poll.id)).toEqual(want.state);

      const counts = Array.from({ length: options }, () => 0);
      for (const option of want.state.values()) counts[option] = (counts[option] ?? 0) + 1;
      expect(await countsOf(poll.id)).toEqual(counts);

      const changedAnything = [...want.state].some(([pid, o]) => stored.get(pid) !== o);
      if (changedAnything) {
        expectedSeq++;
        expect(got.snapshots).toEqual([
          expect.objectContaining({
            pollId: poll.id,
            roomCode: poll.roomCode,
            seq: expectedSeq,
            results: { type: "single", counts, total: want.state.size },
            participants: 12,
          }),
        ]);
      } else {
        expect(got.snapshots, "no snapshot when nothing changed").toEqual([]);
      }
    }
  });

  it("refuses a batch for a closed or deleted poll without touching the counters", async () => {
    const closed = await newPoll(2, true, 3);
    await createPollStore(db()).setStatus(closed.id, "closed");
    const votes = closed.participants.map((p) => [p, 1] as [string, number]);
    expect((await castBatch(closed, votes)).outcomes).toEqual(["POLL_CLOSED", "POLL_CLOSED", "POLL_CLOSED"]);
    expect(await countsOf(closed.id)).toEqual([0, 0]);

    const gone = await newPoll(2, true, 2);
    await createPollStore(db()).deletePoll(gone.id);
    const r = await castBatch(
      gone,
      gone.participants.map((p) => [p, 0] as [string, number]),
    );
    expect(r.outcomes).toEqual(["POLL_NOT_FOUND", "POLL_NOT_FOUND"]);
  });

  it("keeps counts exact when several writers race on one poll (one per instance)", async () => {
    const poll = await newPoll(3, true, 60);
    const writers = Array.from({ length: 4 }, () =>
      createVoteWriter({ store: createResultsStore(db()), results: { committed() {} }, logger, windowMs: 1 }),
    );
    const last = new Map<string, number>();
    const sends: Array<Promise<unknown>> = [];
    const next = seededRandom(99);
    for (let i = 0; i < 400; i++) {
      const pid = poll.participants[next(poll.participants.length)] as string;
      const option = next(3);
      // One participant always goes through the same writer, as a socket stays on one instance.
      const writer = writers[poll.participants.indexOf(pid) % writers.length];
      last.set(pid, option);
      sends.push(
        (writer as (typeof writers)[number]).submit({
          pollId: poll.id,
          roomCode: poll.roomCode,
          questionIndex: 0,
          participantId: pid,
          answer: { kind: "choice", mask: 1 << option },
          receivedAt: Date.now(),
        }),
      );
    }
    await Promise.all(sends);
    expect(await storedVotes(poll.id)).toEqual(last);
    const counts = [0, 0, 0];
    for (const o of last.values()) counts[o] = (counts[o] ?? 0) + 1;
    expect(await countsOf(poll.id)).toEqual(counts);
  });
});
