import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, requireServices } from "../../test/services.js";
import { api, spawnZephyr, type ZephyrProcess } from "../../test/zephyr.js";
import { connectWsSio, type WsSioClient } from "../node/ws-client.js";

/** The framing client over `ws` against a real compiled Zephyr with PostgreSQL and Redis. */

const ready = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const redisUrl = inject("redisUrl");

describe.runIf(ready && pgUrl && redisUrl)("framing client against a running Zephyr", () => {
  let z: ZephyrProcess;
  const clients: WsSioClient[] = [];
  beforeAll(async () => {
    z = await spawnZephyr({
      DATABASE_URL: await createDatabase(pgUrl!, "lt_ws"),
      REDIS_URL: redisUrl!,
      SOCKET_TRANSPORTS: "websocket",
      // The shortest heartbeat the config allows, so the test sees several pings it must answer.
      SOCKET_PING_INTERVAL_MS: "1000",
      SOCKET_PING_TIMEOUT_MS: "1000",
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    z?.kill("SIGKILL");
    await z?.exited;
  });

  async function client() {
    const c = await connectWsSio(z.url);
    clients.push(c);
    return c;
  }

  it("joins, votes with a durable ack, and pushes vote-update to another participant", async () => {
    const poll = (await api(z.url, "/api/polls", { body: { question: "q?", options: ["a", "b", "c"] } }))
      .body;
    const voter = await client();
    const observer = await client();
    expect(voter.handshake.pingInterval).toBe(1000);
    const joined = await observer.call<any>("join-poll", { roomCode: poll.roomCode, nickname: "obs" });
    expect(joined.ack).toMatchObject({
      ok: true,
      data: { results: { counts: [0, 0, 0], total: 0 }, yourVote: null },
    });
    const vj = await voter.call<any>("join-poll", { roomCode: poll.roomCode, nickname: "voter" });
    expect(vj.ack.ok).toBe(true);
    expect(vj.ack.data.participantToken).toMatch(/^zpp_/);

    const updates: any[] = [];
    observer.on("vote-update", (u) => updates.push(u));
    const vote = await voter.call<any>("submit-vote", { optionIndex: 2 });
    expect(vote.ack).toEqual({ ok: true, data: { optionIndex: 2 } });
    expect(vote.rttMs).toBeGreaterThan(0);
    await expect
      .poll(() => updates.at(-1), { timeout: 5000 })
      .toMatchObject({
        roomCode: poll.roomCode,
        counts: [0, 0, 1],
        total: 1,
        participants: 2,
      });
    const stored = (await api(z.url, `/api/polls/${poll.roomCode}/results`)).body;
    expect(stored).toMatchObject({ counts: [0, 0, 1], total: 1 });
  });

  it("reports error acks with their code", async () => {
    const c = await client();
    const r = await c.call<any>("submit-vote", { optionIndex: 0 });
    expect(r.ack).toMatchObject({ ok: false, error: { code: "NOT_JOINED" } });
  });

  it("answers server pings, so the server keeps the connection beyond pingInterval + pingTimeout", async () => {
    const c = await client();
    const before = c.session.pingsAnswered;
    await new Promise((r) => setTimeout(r, 3500));
    expect(c.session.pingsAnswered - before).toBeGreaterThanOrEqual(2);
    expect(c.session.state).toBe("connected");
    expect((await api(z.url, "/api/health")).body.connections).toBeGreaterThanOrEqual(1);
  });

  it("a client that does not answer pings is dropped (the ping check above can fail)", async () => {
    const c = await client();
    // Swallow pings before the session sees them: the server must close us after interval + timeout.
    c.ws.removeAllListeners("message");
    const reason = await Promise.race([
      c.closed,
      new Promise((r) => setTimeout(() => r("still open"), 5000)),
    ]);
    expect(reason).toBe("transport closed");
  });
});
