/**
 * zephyr_add_participants (migration 005) through the participant writer, on PGlite and on PostgreSQL 15: a
 * batch admits in arrival order up to the poll's cap, writers racing on one poll (one per instance) never
 * pass the cap together, every joiner gets a snapshot that counts it, and refusals name their reason.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isAppError } from "../src/domain/errors.js";
import type { ResultsSnapshot } from "../src/domain/poll.js";
import { createLogger } from "../src/logging/index.js";
import { createParticipantWriter } from "../src/participants/writer.js";
import { createPollStore } from "../src/storage/poll-store.js";
import { createResultsStore } from "../src/storage/results-store.js";
import { databaseBackends, migratedDatabase } from "./storage-kit.js";

const backends = databaseBackends("joins");

describe.each(backends)("join batches on %s", (_name, open) => {
  const db = migratedDatabase(open);
  const logger = createLogger({ level: "silent" });

  async function newPoll() {
    const id = randomUUID();
    const roomCode = `J${id.slice(0, 5).toUpperCase()}`;
    await createPollStore(db()).insertPoll({
      id,
      roomCode,
      questions: [{ type: "single", text: "?", options: ["a", "b"], allowVoteChange: true }],
      hostTokenHash: randomUUID(),
    });
    return { id, roomCode };
  }

  const writerFor = (cap: number, snapshots: ResultsSnapshot[] = [], batches: number[] = []) =>
    createParticipantWriter({
      store: createPollStore(db()),
      results: { committed: (s) => snapshots.push(s) },
      cap,
      logger,
      windowMs: 50,
      onBatch: (n) => batches.push(n),
    });

  const join = (
    writer: ReturnType<typeof writerFor>,
    poll: { id: string; roomCode: string },
    nickname: string,
  ) =>
    writer.add({
      id: randomUUID(),
      pollId: poll.id,
      roomCode: poll.roomCode,
      nickname,
      tokenHash: randomUUID(),
    });

  const settle = async (joins: Array<Promise<ResultsSnapshot>>) =>
    (await Promise.allSettled(joins)).map((r) =>
      r.status === "fulfilled" ? r.value : isAppError(r.reason) ? r.reason.code : String(r.reason),
    );

  async function stored(pollId: string) {
    const rows = await db().query<{ nickname: string }>(
      "SELECT nickname FROM participants WHERE poll_id = $1 ORDER BY nickname",
      [pollId],
    );
    const [poll] = await db().query<{ participant_count: number }>(
      "SELECT participant_count FROM polls WHERE id = $1",
      [pollId],
    );
    return { nicknames: rows.map((r) => r.nickname), count: Number(poll?.participant_count) };
  }

  it("admits one batch in arrival order up to the cap and refuses the rest with POLL_FULL", async () => {
    const poll = await newPoll();
    const snapshots: ResultsSnapshot[] = [];
    const batches: number[] = [];
    const writer = writerFor(5, snapshots, batches);
    const names = Array.from({ length: 8 }, (_, i) => `p${i}`);
    const outcomes = await settle(names.map((n) => join(writer, poll, n)));
    expect(batches).toEqual([8]);
    expect(outcomes.slice(5)).toEqual(["POLL_FULL", "POLL_FULL", "POLL_FULL"]);
    for (const o of outcomes.slice(0, 5)) expect(o).toMatchObject({ pollId: poll.id, participants: 5 });
    expect(await stored(poll.id)).toEqual({ nicknames: names.slice(0, 5), count: 5 });
    expect(snapshots).toHaveLength(1);
    expect((await settle([join(writer, poll, "late")]))[0]).toBe("POLL_FULL");
    expect(snapshots, "a batch that added nobody changes no results").toHaveLength(1);
  });

  it("answers each joiner with results that count it, votes included", async () => {
    const poll = await newPoll();
    const writer = writerFor(100);
    const [first] = await settle([join(writer, poll, "first")]);
    expect(first).toMatchObject({ participants: 1, results: { counts: [0, 0], total: 0 }, seq: 0 });
    const [participant] = await db().query<{ id: string }>("SELECT id FROM participants WHERE poll_id = $1", [
      poll.id,
    ]);
    const cast = await createResultsStore(db()).castBatch(poll.id, 0, [
      {
        pollId: poll.id,
        roomCode: poll.roomCode,
        questionIndex: 0,
        participantId: participant?.id as string,
        answer: { kind: "choice", mask: 1 << 1 },
        receivedAt: 0,
      },
    ]);
    const [second] = await settle([join(writer, poll, "second")]);
    expect(second).toMatchObject({
      participants: 2,
      results: { counts: [0, 1], total: 1 },
      seq: cast.snapshot?.seq,
    });
  });

  it("never passes the cap when writers on several instances race on one poll", async () => {
    const poll = await newPoll();
    const writers = Array.from({ length: 4 }, () => writerFor(60));
    const joins = Array.from({ length: 200 }, (_, i) =>
      join(writers[i % 4] as ReturnType<typeof writerFor>, poll, `r${i}`),
    );
    const outcomes = await settle(joins);
    const admitted = outcomes.filter((o) => typeof o === "object");
    expect(admitted).toHaveLength(60);
    expect(outcomes.filter((o) => o === "POLL_FULL")).toHaveLength(140);
    expect((await stored(poll.id)).count).toBe(60);
    expect((await stored(poll.id)).nicknames).toHaveLength(60);
    for (const s of admitted as ResultsSnapshot[]) expect(s.participants).toBeLessThanOrEqual(60);
  });

  it("refuses a whole batch for a deleted poll with POLL_NOT_FOUND", async () => {
    const poll = await newPoll();
    await createPollStore(db()).deletePoll(poll.id);
    const writer = writerFor(10);
    expect(await settle([join(writer, poll, "a"), join(writer, poll, "b")])).toEqual([
      "POLL_NOT_FOUND",
      "POLL_NOT_FOUND",
    ]);
  });
});
