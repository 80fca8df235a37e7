import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  createDatabase,
  type PostgresServer,
  requireServices,
  sql,
  startPostgres,
} from "../../test/services.js";
import { api, spawnZephyr, waitFor, type ZephyrProcess } from "../../test/zephyr.js";
import { migrations } from "../src/storage/migrations/index.js";

/** The compiled service as separate processes, the way `npm start` and the container run it. */

const hasPg = requireServices("postgres");
const pgUrl = inject("postgresUrl");

async function pollWithParticipants(base: string, n: number, body: Record<string, unknown> = {}) {
  const poll = (
    await api(base, "/api/polls", { body: { question: "q?", options: ["a", "b", "c"], ...body } })
  ).body;
  const people: Array<{ participantId: string; participantToken: string }> = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        api(base, `/api/polls/${poll.roomCode}/participants`, { body: { nickname: `p${i + j}` } }),
      ),
    );
    people.push(...batch.map((r) => r.body));
  }
  return { poll, people };
}

describe("start-up and configuration", () => {
  it("refuses to start on invalid configuration with a readable message and exit code 78", async () => {
    await expect(
      spawnZephyr({ PORT: "not-a-port", DB_POOL_SIZE: "0" }, { timeoutMs: 10_000 }),
    ).rejects.toThrow(/exited \(78\)[\s\S]*invalid configuration[\s\S]*PORT[\s\S]*DB_POOL_SIZE/);
  });

  it("never prints database credentials, even when the connection fails", async () => {
    const err = await spawnZephyr(
      {
        DATABASE_URL: "postgres://zephyr:s3cr3t-pw@127.0.0.1:1/zephyr",
        DB_STARTUP_RETRY_MS: "300",
        DB_CONNECT_TIMEOUT_MS: "200",
      },
      { timeoutMs: 15_000 },
    ).catch((e: Error) => e);
    expect(String(err)).toMatch(/exited \(1\)[\s\S]*PostgreSQL not reachable/);
    expect(String(err)).not.toContain("s3cr3t-pw");
  });

  it("keeps embedded PGlite data across a restart when PGLITE_DATA_DIR is set", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zephyr-pglite-"));
    try {
      const first = await spawnZephyr({ PGLITE_DATA_DIR: dir });
      const { poll, people } = await pollWithParticipants(first.url, 2);
      await api(first.url, `/api/polls/${poll.roomCode}/votes`, {
        body: { optionIndex: 1 },
        token: people[0]!.participantToken,
      });
      first.kill("SIGTERM");
      expect(await first.exited).toBe(0);
      const second = await spawnZephyr({ PGLITE_DATA_DIR: dir });
      try {
        expect((await api(second.url, `/api/polls/${poll.roomCode}/results`)).body).toEqual({
          roomCode: poll.roomCode,
          counts: [0, 1, 0],
          total: 1,
          participants: 2,
          online: 0,
        });
        // the participant's token still works after the restart
        const again = await api(second.url, `/api/polls/${poll.roomCode}/votes`, {
          body: { optionIndex: 0 },
          token: people[1]!.participantToken,
        });
        expect(again.status).toBe(200);
      } finally {
        second.kill("SIGTERM");
        expect(await second.exited).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(hasPg && pgUrl)("against PostgreSQL 15", () => {
  it("three instances starting together against one empty database migrate exactly once", async () => {
    const url = await createDatabase(pgUrl!, "migrate3");
    const instances = await Promise.all(
      [1, 2, 3].map((i) => spawnZephyr({ DATABASE_URL: url, INSTANCE_ID: `pod-${i}` })),
    );
    try {
      const applied = instances.map((z) => (z.output().match(/"msg":"migration applied"/g) ?? []).length);
      expect(applied.reduce((a, b) => a + b, 0)).toBe(migrations.length);
      expect(instances.every((z) => !/"level":"(error|fatal)"/.test(z.output()))).toBe(true);
      const rows = await sql<{ version: number }>(
        url,
        "SELECT version FROM schema_migrations ORDER BY version",
      );
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      // and all three serve the same data
      const { poll } = await pollWithParticipants(instances[0]!.url, 0);
      for (const z of instances) expect((await api(z.url, `/api/polls/${poll.roomCode}`)).status).toBe(200);
    } finally {
      for (const z of instances) z.kill("SIGTERM");
      expect(await Promise.all(instances.map((z) => z.exited))).toEqual([0, 0, 0]);
    }
  });

  it("waits for a database that comes up after the service (retry with backoff), then serves", async () => {
    const pg = await startPostgres();
    try {
      await pg.stop();
      let retrying: () => void = () => undefined;
      const sawRetry = new Promise<void>((r) => {
        retrying = r;
      });
      const starting = spawnZephyr(
        { DATABASE_URL: pg.url, DB_STARTUP_RETRY_MS: "30000", DB_CONNECT_TIMEOUT_MS: "500" },
        { onOutput: (text) => /"msg":"PostgreSQL not reachable yet"/.test(text) && retrying() },
      );
      await sawRetry;
      await pg.start();
      const z = await starting;
      try {
        expect(z.output()).toMatch(/"msg":"PostgreSQL not reachable yet"/);
        expect((await api(z.url, "/api/health/ready")).status).toBe(200);
      } finally {
        z.kill();
        await z.exited;
      }
    } finally {
      await pg.destroy();
    }
  });

  it("`migrate` applies migrations once and is idempotent", async () => {
    const url = await createDatabase(pgUrl!, "migratecmd");
    const run = async () => {
      const { spawn } = await import("node:child_process");
      const { MAIN_JS } = await import("../../test/zephyr.js");
      const child = spawn(process.execPath, [MAIN_JS, "migrate"], {
        env: { PATH: process.env.PATH, DATABASE_URL: url },
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const code = await new Promise((r) => child.once("exit", r));
      return { code, out };
    };
    const first = await run();
    expect(first.code).toBe(0);
    expect(first.out).toContain(`"applied":[${migrations.map((m) => m.version).join(",")}]`);
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/"applied":\[\]/);
    // a server with MIGRATE_ON_START=false then works on the migrated schema
    const z = await spawnZephyr({ DATABASE_URL: url, MIGRATE_ON_START: "false" });
    try {
      expect((await api(z.url, "/api/polls", { body: { question: "q", options: ["a", "b"] } })).status).toBe(
        201,
      );
    } finally {
      z.kill();
      await z.exited;
    }
  });

  describe("database outage", () => {
    let pg: PostgresServer;
    let z: ZephyrProcess;
    beforeAll(async () => {
      pg = await startPostgres();
      z = await spawnZephyr({ DATABASE_URL: pg.url, DB_CONNECT_TIMEOUT_MS: "500" });
    });
    afterAll(async () => {
      z?.kill("SIGKILL");
      await pg?.destroy();
    });

    it("turns unready while PostgreSQL is down and ready again when it returns, without a restart", async () => {
      const { poll, people } = await pollWithParticipants(z.url, 2);
      expect((await api(z.url, "/api/health/ready")).status).toBe(200);
      await pg.stop();
      await waitFor(async () => (await api(z.url, "/api/health/ready")).status === 503, {
        what: "ready=503",
      });
      const ready = await api(z.url, "/api/health/ready");
      expect(ready.body).toMatchObject({ status: "unavailable", checks: { database: { status: "down" } } });
      // liveness must not follow the database, or Kubernetes would restart every pod during an outage
      expect((await api(z.url, "/api/health/live")).status).toBe(200);
      const vote = await api(z.url, `/api/polls/${poll.roomCode}/votes`, {
        body: { optionIndex: 0 },
        token: people[0]!.participantToken,
      });
      expect(vote.status).toBe(503);
      expect(vote.body.error.code).toBe("UNAVAILABLE");
      expect(JSON.stringify(vote.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);

      await pg.start();
      await waitFor(async () => (await api(z.url, "/api/health/ready")).status === 200, {
        what: "ready=200",
        timeoutMs: 20_000,
      });
      const after = await api(z.url, `/api/polls/${poll.roomCode}/votes`, {
        body: { optionIndex: 2 },
        token: people[1]!.participantToken,
      });
      expect(after.status).toBe(200);
      expect((await api(z.url, `/api/polls/${poll.roomCode}/results`)).body.counts).toEqual([0, 0, 1]);
      expect(z.child.exitCode).toBeNull();
    });
  });

  it("SIGTERM during a stream of votes loses no acknowledged vote and exits 0 within SHUTDOWN_TIMEOUT_MS", async () => {
    const url = await createDatabase(pgUrl!, "sigterm");
    const z = await spawnZephyr({ DATABASE_URL: url, SHUTDOWN_DELAY_MS: "300", SHUTDOWN_TIMEOUT_MS: "5000" });
    const { poll, people } = await pollWithParticipants(z.url, 400);
    const acknowledged: string[] = [];
    let refused = 0;
    let next = 0;
    const worker = async () => {
      for (;;) {
        const p = people[next++];
        if (!p) return;
        try {
          const res = await api(z.url, `/api/polls/${poll.roomCode}/votes`, {
            body: { optionIndex: 1 },
            token: p.participantToken,
          });
          if (res.status === 200) acknowledged.push(p.participantId);
        } catch {
          refused++; // connection refused or reset after the listener closed: never acknowledged
        }
      }
    };
    const workers = Promise.all(Array.from({ length: 8 }, worker));
    await waitFor(async () => acknowledged.length >= 40, { what: "votes flowing" });
    const signalledAt = Date.now();
    z.kill("SIGTERM");
    // readiness flips at once, while requests are still being served during SHUTDOWN_DELAY_MS
    await waitFor(async () => (await api(z.url, "/api/health/ready")).status === 503, {
      timeoutMs: 300,
      intervalMs: 5,
      what: "ready=503 during the delay",
    });
    expect((await api(z.url, "/api/health/live")).status).toBe(200);
    const code = await z.exited;
    const tookMs = Date.now() - signalledAt;
    await workers;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(5000);
    expect(acknowledged.length).toBeGreaterThan(40);
    const stored = await sql<{ participant_id: string }>(
      url,
      "SELECT participant_id FROM votes WHERE poll_id = $1",
      [poll.id],
    );
    const storedIds = new Set(stored.map((r) => r.participant_id));
    expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);
    const counts = await sql<{ vote_count: number }>(
      url,
      "SELECT vote_count FROM poll_options WHERE poll_id = $1 ORDER BY position",
      [poll.id],
    );
    expect(counts[1]?.vote_count).toBe(stored.length);
    expect(z.output()).toMatch(/"msg":"shutdown complete"/);
    console.info(
      `SIGTERM test: ${acknowledged.length} acknowledged, ${stored.length} stored, ${refused} refused after close, exit in ${tookMs} ms`,
    );
  });
});
