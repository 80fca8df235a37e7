/**
 * Upgrading a running installation: a PostgreSQL database built and filled by the migrations the service had before
 * presentations (001–005, the schema of every existing installation), then opened by today's service, which
 * migrates it on start. The old poll, its participants, votes and host keep working through the new API, and the
 * old request and response shapes are unchanged.
 */
import { randomUUID } from "node:crypto";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, requireServices } from "../../test/services.js";
import { api, type RunningZephyr, startZephyr } from "../../test/zephyr.js";
import { generateRoomCode, generateToken, hashToken } from "../src/domain/tokens.js";
import { migrate, migrations } from "../src/storage/migrations/index.js";
import { createPostgresDatabase } from "../src/storage/postgres.js";

const ready = requireServices("postgres");
const pgUrl = inject("postgresUrl");

describe.runIf(ready && pgUrl)(
  "a database from before presentations, upgraded by starting the service",
  () => {
    let z: RunningZephyr;
    const roomCode = generateRoomCode();
    const hostToken = generateToken("host");
    const tokens = [generateToken("participant"), generateToken("participant"), generateToken("participant")];

    beforeAll(async () => {
      const url = await createDatabase(pgUrl!, "upgrade");
      const db = createPostgresDatabase({ connectionString: url });
      try {
        await migrate(
          db,
          undefined,
          migrations.filter((m) => m.version <= 5),
        );
        const pollId = randomUUID();
        await db.query(
          "INSERT INTO polls (id, room_code, question, allow_vote_change, host_token_hash) VALUES ($1, $2, 'Lunch?', true, $3)",
          [pollId, roomCode, hashToken(hostToken)],
        );
        await db.query(
          "INSERT INTO poll_options (poll_id, position, label) VALUES ($1, 0, 'pizza'), ($1, 1, 'salad'), ($1, 2, 'soup')",
          [pollId],
        );
        const people = tokens.map(() => randomUUID());
        await db.query("SELECT zephyr_add_participants($1, $2::uuid[], $3::text[], $4::text[], 100)", [
          pollId,
          people,
          ["ann", "bob", "cy"],
          tokens.map(hashToken),
        ]);
        await db.query("SELECT zephyr_cast_votes($1, $2::uuid[], $3::smallint[])", [
          pollId,
          people,
          [0, 2, 2],
        ]);
      } finally {
        await db.close();
      }
      z = await startZephyr({ DATABASE_URL: url, RATE_LIMIT_VOTE: "1000" });
    });
    afterAll(async () => {
      await z?.stop();
    });

    it("reads the old poll and its results in the original shapes, and as a one-question presentation", async () => {
      expect((await api(z.url, `/api/polls/${roomCode}`)).body).toMatchObject({
        roomCode,
        question: "Lunch?",
        options: ["pizza", "salad", "soup"],
        allowVoteChange: true,
        status: "open",
        activeQuestion: 0,
        questions: [{ index: 0, type: "single", text: "Lunch?", options: ["pizza", "salad", "soup"] }],
      });
      expect((await api(z.url, `/api/polls/${roomCode}/results`)).body).toEqual({
        roomCode,
        counts: [1, 0, 2],
        total: 3,
        participants: 3,
        online: 0,
      });
      expect((await api(z.url, `/api/polls/${roomCode}/results?question=0`)).body).toMatchObject({
        questionIndex: 0,
        type: "single",
        counts: [1, 0, 2],
        total: 3,
      });
    });

    it("lets the old participants change their votes and the old host run the poll", async () => {
      const vote = await api(z.url, `/api/polls/${roomCode}/votes`, {
        body: { optionIndex: 1 },
        token: tokens[0],
      });
      expect(vote.body).toEqual({ optionIndex: 1 });
      expect((await api(z.url, `/api/polls/${roomCode}/results`)).body.counts).toEqual([0, 1, 2]);

      const hidden = await api(z.url, `/api/polls/${roomCode}/questions/0/results/hide`, {
        method: "POST",
        token: hostToken,
      });
      expect(hidden.body).toMatchObject({ hidden: true, counts: [0, 1, 2] });
      expect((await api(z.url, `/api/polls/${roomCode}/results`)).body).not.toHaveProperty("counts");
      await api(z.url, `/api/polls/${roomCode}/questions/0/results/reveal`, {
        method: "POST",
        token: hostToken,
      });

      const csv = await fetch(`${z.url}/api/polls/${roomCode}/export.csv`, {
        headers: { authorization: `Bearer ${hostToken}` },
      });
      const rows = parse((await csv.text()).replace(/^\uFEFF/, ""), { columns: true }) as Array<
        Record<string, string>
      >;
      expect(rows.map((r) => `${r.nickname}:${r.answer}`).sort()).toEqual([
        "ann:salad",
        "bob:soup",
        "cy:soup",
      ]);
      expect(rows).toHaveLength(3);
      expect(
        (await api(z.url, `/api/polls/${roomCode}/close`, { method: "POST", token: hostToken })).body,
      ).toMatchObject({
        status: "closed",
      });
    });
  },
);
