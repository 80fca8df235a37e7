/**
 * The presenter's changes in storage, on PGlite and PostgreSQL 15: activating a question moves where answers go,
 * hiding is stored per question, moderation moves open answers between pending, shown and removed with the shown
 * count following, and each change advances the results version (a refused one does not).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { validatePollDefinition } from "../src/domain/questions.js";
import { createHostStore } from "../src/storage/host-store.js";
import { createPollStore } from "../src/storage/poll-store.js";
import { databaseBackends, insertParticipants, migratedDatabase } from "./storage-kit.js";

const backends = databaseBackends("host");

describe.each(backends)("host changes on %s", (_name, open) => {
  const db = migratedDatabase(open);

  async function newPoll() {
    const id = randomUUID();
    const roomCode = `H${id.slice(0, 5).toUpperCase()}`;
    const definition = validatePollDefinition({
      questions: [
        { type: "single", text: "s", options: ["a", "b"] },
        { type: "open", text: "o", moderation: "approve" },
      ],
    });
    await createPollStore(db()).insertPoll({ id, roomCode, ...definition, hostTokenHash: "h" });
    const pid = randomUUID();
    await insertParticipants(db(), id, [pid]);
    return { id, roomCode, pid };
  }
  const version = async (pollId: string) =>
    Number(
      (await db().query<{ v: number }>("SELECT results_version AS v FROM polls WHERE id = $1", [pollId]))[0]
        ?.v,
    );
  const shown = async (pollId: string) =>
    Number(
      (
        await db().query<{ n: number }>(
          "SELECT shown_count AS n FROM questions WHERE poll_id = $1 AND position = 1",
          [pollId],
        )
      )[0]?.n,
    );
  const answer = async (pollId: string, pid: string, text: string) => {
    const id = randomUUID();
    await db().query(
      "SELECT zephyr_cast_open_answers($1, 1::smallint, $2::uuid[], $3::uuid[], $4::text[], 3)",
      [pollId, [id], [pid], [text]],
    );
    return id;
  };

  it("activates an existing question only, and answers follow the active one", async () => {
    const poll = await newPoll();
    const host = createHostStore(db());
    const v0 = await version(poll.id);
    expect(await host.activateQuestion(poll.id, 1)).toMatchObject({
      seq: v0 + 1,
      questionIndex: 1,
      activeQuestion: 1,
    });
    expect((await createPollStore(db()).findPollByCode(poll.roomCode))?.activeQuestion).toBe(1);
    expect(await host.activateQuestion(poll.id, 7)).toBe(false);
    expect(await host.activateQuestion(randomUUID(), 0)).toBe(false);
    expect(await version(poll.id), "a refused change does not advance the version").toBe(v0 + 1);
    const [row] = await db().query<{ reply: unknown }>(
      "SELECT zephyr_cast_choices($1, 0::smallint, $2::uuid[], $3::integer[]) AS reply",
      [poll.id, [poll.pid], [1]],
    );
    const reply = typeof row?.reply === "string" ? JSON.parse(row.reply) : row?.reply;
    expect(reply).toEqual({ poll: "open", question: "not-active" });
  });

  it("stores hidden results per question", async () => {
    const poll = await newPoll();
    const host = createHostStore(db());
    expect(await host.setResultsHidden(poll.id, 1, true)).toMatchObject({
      seq: expect.any(Number),
      questionIndex: 1,
      hidden: true,
    });
    expect(await host.setResultsHidden(poll.id, 5, true)).toBe(false);
    const rows = await db().query<{ position: number; results_hidden: boolean }>(
      "SELECT position, results_hidden FROM questions WHERE poll_id = $1 ORDER BY position",
      [poll.id],
    );
    expect(rows.map((r) => r.results_hidden)).toEqual([false, true]);
    await host.setResultsHidden(poll.id, 1, false);
    expect(
      (
        await db().query<{ h: boolean }>(
          "SELECT bool_or(results_hidden) AS h FROM questions WHERE poll_id = $1",
          [poll.id],
        )
      )[0]?.h,
    ).toBe(false);
  });

  it("moves open answers between pending, shown and removed, the shown count following", async () => {
    const poll = await newPoll();
    const host = createHostStore(db());
    await host.activateQuestion(poll.id, 1);
    const a = await answer(poll.id, poll.pid, "a");
    const b = await answer(poll.id, poll.pid, "b");
    expect(await shown(poll.id)).toBe(0);
    expect(await host.moderateAnswer(poll.id, 1, a, "approve")).toMatchObject({
      status: "shown",
      snapshot: {
        results: { type: "open", answers: [{ id: a, text: "a" }], total: 1 },
        pending: [{ id: b }],
      },
    });
    expect(await shown(poll.id)).toBe(1);
    expect(await host.moderateAnswer(poll.id, 1, a, "approve"), "nothing changed").toEqual({
      status: "shown",
    });
    expect(await host.moderateAnswer(poll.id, 1, b, "remove")).toMatchObject({ status: "removed" });
    expect(await shown(poll.id), "removing a pending answer changes no count").toBe(1);
    expect(await host.moderateAnswer(poll.id, 1, a, "remove")).toMatchObject({ status: "removed" });
    expect(await shown(poll.id)).toBe(0);
    expect(await host.moderateAnswer(poll.id, 1, a, "approve"), "removed stays removed").toEqual({
      status: "removed",
    });
    expect(await host.moderateAnswer(poll.id, 0, b, "approve"), "answer of another question").toBe("missing");
    expect(await host.moderateAnswer(poll.id, 1, randomUUID(), "approve")).toBe("missing");
  });
});
