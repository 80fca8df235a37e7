/**
 * Presentations scaled out: three compiled instances with real PostgreSQL and Redis, real socket.io clients.
 * A five-question poll with every type is run end to end with 300 participants while the host steps through it
 * from another instance; and an instance is killed with SIGKILL during a word-cloud burst.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Cluster, startCluster } from "../../test/cluster.js";
import { requireServices, sql } from "../../test/services.js";
import { call, connect, type LiveClient } from "../../test/sockets.js";
import { api, waitFor } from "../../test/zephyr.js";
import {
  type Answers,
  answersFor,
  expectedResults,
  FIVE_QUESTIONS,
  resultFields,
} from "./presentation-kit.js";

const ready = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const redisUrl = inject("redisUrl");

const ENV = {
  RATE_LIMIT_JOIN: "1000000",
  RATE_LIMIT_JOIN_POLLS: "1000000",
  RATE_LIMIT_VOTE: "1000000",
  BROADCAST_INTERVAL_MS: "100",
  DB_POOL_SIZE: "10",
};

type Participant = LiveClient & { participantId: string; nickname: string };

async function joinAll(urls: string[], roomCode: string, n: number, prefix: string): Promise<Participant[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const c = await connect(urls[i % urls.length] as string);
      const nickname = `${prefix}${i}`;
      const r = await call(c, "join-poll", { roomCode, nickname });
      if (!r.ok) throw new Error(`join failed: ${JSON.stringify(r)}`);
      return Object.assign(c, { participantId: r.data.participantId as string, nickname });
    }),
  );
}

describe.runIf(ready && pgUrl && redisUrl)("presentations across three instances", () => {
  let cluster: Cluster;
  const sockets: LiveClient[] = [];
  beforeAll(async () => {
    cluster = await startCluster(pgUrl!, { ...ENV, REDIS_URL: redisUrl! });
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await cluster?.stop();
  });

  it("runs a five-question poll for 300 participants while the host steps through it from another instance", async () => {
    const [A, B, C] = cluster.instances.map((z) => z.url) as [string, string, string];
    const poll = (await api(A, "/api/polls", { body: FIVE_QUESTIONS })).body;
    const people = await joinAll([A, B, C], poll.roomCode, 300, "p");
    const hostSocket = await connect(C);
    sockets.push(...people, hostSocket);
    expect(
      await call(hostSocket, "host-join", { roomCode: poll.roomCode, hostToken: poll.hostToken }),
    ).toMatchObject({
      ok: true,
    });

    const sent: Answers[][] = [];
    let approved: string[] = [];
    for (let q = 0; q < FIVE_QUESTIONS.questions.length; q++) {
      if (q === 2) {
        // The rating's results stay hidden while the room answers (hidden from another instance over HTTP).
        const hidden = await api(B, `/api/polls/${poll.roomCode}/questions/2/results/hide`, {
          method: "POST",
          token: poll.hostToken,
        });
        expect(hidden.body).toMatchObject({ questionIndex: 2, hidden: true });
      }
      if (q > 0) {
        const moved = await call(hostSocket, "host-activate", {
          hostToken: poll.hostToken,
          questionIndex: q,
        });
        expect(moved).toMatchObject({ ok: true, data: { poll: { activeQuestion: q } } });
        await waitFor(async () => people.every((p) => p.states.at(-1)?.activeQuestion === q), {
          what: `every participant follows to question ${q}`,
        });
      }
      const answers = answersFor(q, people.length, 7);
      sent.push(answers);
      // Half name the question, half answer "the active one".
      const acks = await Promise.all(
        people.map(async (p, i) => {
          const out = [];
          for (const a of answers[i] as Answers)
            out.push(await call(p, "submit-vote", i % 2 ? { questionIndex: q, ...a } : a));
          return out;
        }),
      );
      const refused = acks.flat().filter((a) => !a.ok);
      expect(refused, JSON.stringify(refused.slice(0, 3))).toEqual([]);
      if (q === 2) {
        await waitFor(async () => hostSocket.updates.at(-1)?.total === people.length, {
          what: "the host sees every hidden rating",
        });
        for (const p of people)
          for (const u of p.updates.filter((x) => x.questionIndex === 2))
            expect(
              u.distribution ?? u.counts ?? u.average ?? u.total,
              "no result of a hidden question",
            ).toBeUndefined();
        const room = (await api(A, `/api/polls/${poll.roomCode}/results`)).body;
        expect(room).toMatchObject({ questionIndex: 2, hidden: true });
        expect(resultFields(room)).toEqual({});
        const revealedAt = Date.now();
        expect(
          await call(hostSocket, "host-reveal-results", { hostToken: poll.hostToken, questionIndex: 2 }),
        ).toMatchObject({
          ok: true,
        });
        await waitFor(
          async () =>
            people.every((p) => p.updates.some((u) => u.questionIndex === 2 && u.total === people.length)),
          { what: "every participant gets the revealed results", timeoutMs: 5_000, intervalMs: 10 },
        );
        const revealSeconds = (Date.now() - revealedAt) / 1000;
        expect(revealSeconds, "reveal reached all 300 participants").toBeLessThan(1);
        console.info(`reveal reached ${people.length} participants on 3 instances in ${revealSeconds} s`);
      }
      if (q === 4) {
        // The host approves every third answer and removes one of those again.
        const ids = acks.flat().map((a) => (a.ok ? (a.data.answerId as string) : ""));
        const chosen = ids.filter((_, i) => i % 3 === 0);
        for (const answerId of chosen) {
          const r = await call(hostSocket, "host-approve-answer", {
            hostToken: poll.hostToken,
            questionIndex: 4,
            answerId,
          });
          expect(r).toMatchObject({ ok: true, data: { status: "shown" } });
        }
        const removed = chosen[0] as string;
        expect(
          (
            await api(B, `/api/polls/${poll.roomCode}/questions/4/answers/${removed}/remove`, {
              method: "POST",
              token: poll.hostToken,
            })
          ).body,
        ).toMatchObject({ status: "removed" });
        approved = chosen.slice(1);
      }
    }

    for (let q = 0; q < sent.length; q++) {
      const want = expectedResults(q, sent[q] as Answers[], approved);
      const got = (await api(B, `/api/polls/${poll.roomCode}/results?question=${q}`)).body;
      expect(resultFields(got), `question ${q}`).toEqual(want);
      if (q === 4) {
        // Approved answers only, newest first, capped at 50.
        const shown = (got.answers as Array<{ id: string; nickname: string }>).map((a) => a.id);
        expect(shown.length).toBe(Math.min(50, approved.length));
        expect(approved).toEqual(expect.arrayContaining(shown));
      }
      // Every participant's last update of the question, on whichever instance, is the final result. The open
      // question's total alone is not final: 99 shown answers happen twice (the 99th approval, then the removal),
      // so its shown answers are compared too.
      const final = (u: (typeof people)[number]["updates"][number] | undefined) =>
        u !== undefined &&
        JSON.stringify(resultFields(u as never)) === JSON.stringify(want) &&
        (q !== 4 || JSON.stringify(u.answers) === JSON.stringify(got.answers));
      await waitFor(
        async () => people.every((p) => final(p.updates.filter((u) => u.questionIndex === q).at(-1))),
        {
          what: `every participant's last update of question ${q}`,
          timeoutMs: 10_000,
        },
      );
    }
    // Participants never saw an answer awaiting approval.
    for (const p of people) for (const u of p.updates) expect(u.pending).toBeUndefined();
  }, 180_000);

  it("kill -9 of an instance during a word-cloud burst loses no acknowledged entry", async () => {
    const [A, B] = cluster.instances as [(typeof cluster.instances)[0], (typeof cluster.instances)[0]];
    const poll = (
      await api(B.url, "/api/polls", {
        body: { questions: [{ type: "wordcloud", text: "Burst", maxEntries: 3 }] },
      })
    ).body;
    const pollId = (
      await sql<{ id: string }>(cluster.dbUrl, "SELECT id FROM polls WHERE room_code = $1", [poll.roomCode])
    )[0]?.id;
    const people = await joinAll([A.url, B.url], poll.roomCode, 400, "w");
    sockets.push(...people);
    const acked = new Map<string, string[]>();
    // joinAll alternates instances: even participants are on A, the instance that dies.
    const onVictim = new Set(people.filter((_, i) => i % 2 === 0).map((p) => p.participantId));
    const ackedOnVictim = () => [...acked.keys()].filter((id) => onVictim.has(id)).length;
    const burst = Promise.all(
      people.map(async (p, i) => {
        await new Promise((r) => setTimeout(r, (i % 100) * 5));
        const entries = [`word${i % 17}`, `other${i % 5}`];
        const r = await call(p, "submit-vote", { entries }, 5_000).catch(() => undefined);
        if (r?.ok) acked.set(p.participantId, r.data.entries);
      }),
    );
    await waitFor(async () => ackedOnVictim() >= 20, {
      what: "a part of the burst acknowledged",
      intervalMs: 5,
    });
    A.kill("SIGKILL");
    await A.exited;
    await burst;

    const stored = await sql<{ participant_id: string; word: string }>(
      cluster.dbUrl,
      "SELECT participant_id, word FROM word_entries WHERE poll_id = $1",
      [pollId],
    );
    const byParticipant = new Map<string, string[]>();
    for (const r of stored)
      byParticipant.set(r.participant_id, [...(byParticipant.get(r.participant_id) ?? []), r.word]);
    for (const [pid, words] of acked) expect(byParticipant.get(pid)?.sort(), pid).toEqual([...words].sort());
    // The counters equal a recount of the entries, and the participants who answered.
    const counted = await sql<{ word: string; count: number }>(
      cluster.dbUrl,
      "SELECT word, count FROM word_counts WHERE poll_id = $1 ORDER BY word",
      [pollId],
    );
    const recount = new Map<string, number>();
    for (const r of stored) recount.set(r.word, (recount.get(r.word) ?? 0) + 1);
    expect(new Map(counted.map((r) => [r.word, Number(r.count)]))).toEqual(recount);
    const [q] = await sql<{ answer_count: number }>(
      cluster.dbUrl,
      "SELECT answer_count FROM questions WHERE poll_id = $1",
      [pollId],
    );
    expect(Number(q?.answer_count)).toBe(byParticipant.size);
    expect(acked.size - ackedOnVictim(), "the surviving instance acknowledged all of its participants").toBe(
      200,
    );
    expect(ackedOnVictim(), "the kill came in the middle of the burst").toBeLessThan(200);
    console.info(
      `word-cloud kill -9: ${ackedOnVictim()} acknowledged on the killed instance, ${acked.size} in all, ${byParticipant.size} stored`,
    );
  }, 120_000);
});
