import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { join, resolve } from "node:path";
import { io as ioClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { type Nginx, requireNginx, startNginx } from "../../../test/nginx.js";
import { REPO_ROOT } from "../../../test/paths.js";
import {
  createDatabase,
  freePort,
  type RedisServer,
  requireServices,
  startRedis,
} from "../../../test/services.js";
import { type Client, call } from "../../../test/sockets.js";
import { spawnZephyr, waitFor, type ZephyrProcess } from "../../../test/zephyr.js";
import { loadConfig } from "../../src/config/index.js";
import type { LiveResults } from "../../src/transports/socket/contract.js";
import { httpFrom, interpolateAll, type Json } from "./support.js";

/**
 * The committed app/deploy/nginx.conf, run by the real Debian nginx in front of three compiled instances sharing
 * PostgreSQL and Redis, the way docker-compose.yml runs it. The only edits: upstream `server` lines point at the
 * instances' loopback ports and `listen` at a free port. Most clients share one source address, as an audience
 * behind a venue's NAT does; a few use others (127.0.N.1; all of 127.0.0.0/8 is local on Linux) to show that
 * per-address rate limits see each client's own address.
 */

const servicesOk = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const CONF = resolve(REPO_ROOT, "app/deploy/nginx.conf");
const committed = readFileSync(CONF, "utf8");

const SERVER_LINE = /^(\s*)server\s+(\S+):(\d+)(.*);\s*$/;
const LISTEN_LINE = /^(\s*)listen\s+(\S+);\s*$/;

/** The test copy: upstream servers and listen replaced, every other line exactly as committed. */
function testCopy(text: string, backends: number[], port: number): string {
  let i = 0;
  return text
    .split("\n")
    .map((line) => {
      const s = SERVER_LINE.exec(line);
      // Both upstream groups list the same instances in the same order.
      if (s) return `${s[1]}server 127.0.0.1:${backends[i++ % backends.length]}${s[4]};`;
      const l = LISTEN_LINE.exec(line);
      if (l) return `${l[1]}listen 127.0.0.1:${port};`;
      return line;
    })
    .join("\n");
}

type Sock = Client & { updates: LiveResults[]; polls: number; disconnects: string[]; agent: Agent };

/** A socket.io client whose every HTTP request and WebSocket leaves from `from` (agent + localAddress). */
function connectFrom(
  url: string,
  from: string,
  opts: {
    transports: Array<"polling" | "websocket">;
    upgrade?: boolean;
    reconnection?: boolean;
    /** Keep cookies like a browser (engine.io-client's cookie jar): the affinity cookie long-polling needs. */
    cookies?: boolean;
  },
): Promise<Sock> {
  const agent = new Agent({ localAddress: from, keepAlive: true });
  const socket = ioClient(url, {
    transports: opts.transports,
    upgrade: opts.upgrade ?? true,
    reconnection: opts.reconnection ?? false,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    timeout: 5_000,
    forceNew: true,
    withCredentials: opts.cookies ?? true,
    localAddress: from,
    agent: agent as unknown as string,
  } as Parameters<typeof ioClient>[1]) as Sock;
  socket.agent = agent;
  socket.updates = [];
  socket.polls = 0;
  socket.disconnects = [];
  socket.on("vote-update", (u) => socket.updates.push(u));
  socket.on("disconnect", (reason) => socket.disconnects.push(reason));
  // Every long-poll GET the session makes: each one is routed by nginx separately.
  socket.io.on("open", () => socket.io.engine.transport.on("poll", () => socket.polls++));
  return new Promise((res, rej) => {
    socket.once("connect", () => res(socket));
    socket.once("connect_error", (e) => {
      if (!opts.reconnection) {
        socket.close();
        agent.destroy();
        rej(e);
      }
    });
  });
}

function close(...sockets: Sock[]) {
  for (const s of sockets) {
    s.close();
    s.agent.destroy();
  }
}

/** HTTP through nginx from a given source address; headers and body as JSON for assertions. */
const net = (n: number) => `127.0.${n}.1`;

describe.skipIf(!servicesOk || !requireNginx())("nginx.conf in front of three instances (real nginx)", () => {
  let redis: RedisServer;
  let instances: ZephyrProcess[] = [];
  let lb: Nginx;
  let control: Nginx | undefined;
  /** The audience's one address (a venue's NAT). */
  const VENUE = net(1);
  const byId = (id: string) => instances[ids.indexOf(id)] as ZephyrProcess;
  const ids = ["backend-1", "backend-2", "backend-3"];
  /** Connects one client and learns which instance nginx sent it to, from the instances' connection counts. */
  const placed = async (opts: Parameters<typeof connectFrom>[2], from = VENUE) => {
    const before = await connections();
    const socket = await connectFrom(lb.url, from, opts);
    const after = await connections();
    const on = after.findIndex((c, i) => c === (before[i] as number) + 1);
    expect(on, "exactly one instance gained the connection").toBeGreaterThanOrEqual(0);
    return Object.assign(socket, { on: ids[on] as string });
  };
  const connections = () =>
    Promise.all(
      instances.map(async (z) =>
        z.child.exitCode === null
          ? ((await (await fetch(`${z.url}/api/health`)).json()) as any).connections
          : -1,
      ),
    );

  beforeAll(async () => {
    const password = "s3cret-redis:pass@/";
    redis = await startRedis({ password });
    const db = new URL(await createDatabase(pgUrl as string, "nginx"));
    // Each instance gets its docker-compose.yml environment; only where PostgreSQL and Redis are differs (the
    // test's servers: trust authentication, so DB_PASSWORD is not checked, while Redis requires its password).
    // Every instance migrates at start-up, all at once, as in compose; the advisory lock serialises them.
    const compose = interpolateAll(
      parse(readFileSync(resolve(REPO_ROOT, "docker-compose.yml"), "utf8"), { merge: true }),
      {
        POSTGRES_PASSWORD: "unused-with-trust-auth",
        REDIS_PASSWORD: password,
      },
    ) as Json;
    instances = await Promise.all(
      ids.map((id) => {
        const env = compose.services[id].environment as Record<string, string>;
        expect(env.INSTANCE_ID).toBe(id);
        return spawnZephyr({
          ...env,
          PORT: "0",
          HOST: "127.0.0.1",
          DB_HOST: db.hostname,
          DB_PORT: db.port,
          DB_USER: db.username,
          DB_NAME: db.pathname.slice(1),
          DB_SSL: "false",
          REDIS_HOST: "127.0.0.1",
          REDIS_PORT: String(redis.port),
          // Test-only: a low limit to observe per-client rate limiting, and no drain wait when stopping one.
          RATE_LIMIT_POLL_CREATE: "3",
          DRAIN_WINDOW_MS: "0",
        });
      }),
    );
    lb = await startNginx(
      testCopy(
        committed,
        instances.map((z) => z.port),
        await freePort(),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    await lb?.stop();
    await control?.stop();
    for (const z of instances) if (z.child.exitCode === null) z.kill("SIGKILL");
    await Promise.all(instances.map((z) => z.exited));
    await redis?.destroy();
  });

  it("the test copy differs from the committed file only in the upstream servers and the listen port", () => {
    const a = committed.split("\n");
    const b = testCopy(committed, [1, 2, 3], 8080).split("\n");
    expect(b.length).toBe(a.length);
    const changed = a.map((line, i) => [line, b[i]]).filter(([x, y]) => x !== y);
    const servers = [
      "server backend-1:4000 max_fails=1 fail_timeout=10s;",
      "server backend-2:4000 max_fails=1 fail_timeout=10s;",
      "server backend-3:4000 max_fails=1 fail_timeout=10s;",
    ];
    expect(changed.map(([x]) => x?.trim())).toEqual([...servers, ...servers, "listen 80;"]);
    expect(readFileSync(join(lb.dir, "nginx.conf"), "utf8")).toBe(
      testCopy(
        committed,
        instances.map((z) => z.port),
        lb.port,
      ),
    );
  });

  it("proxy timeouts on the Socket.IO path exceed the app's ping interval + ping timeout", () => {
    const { pingIntervalMs, pingTimeoutMs } = loadConfig({}).socket;
    const ping = pingIntervalMs + pingTimeoutMs;
    expect(ping).toBeGreaterThan(0);
    const block = /location \/socket\.io\/ \{([^}]*)\}/.exec(committed)?.[1] ?? "";
    for (const d of ["proxy_read_timeout", "proxy_send_timeout"]) {
      const seconds = Number(new RegExp(`${d} (\\d+)s;`).exec(block)?.[1]);
      expect(seconds * 1000, d).toBeGreaterThan(ping);
    }
  });

  it("HTTP from one address spreads over all three instances, and a browser gets its affinity cookie once", async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const r = await httpFrom(`${lb.url}/api/health`, VENUE);
      expect(r.status).toBe(200);
      seen.set(r.body.instanceId, (seen.get(r.body.instanceId) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(ids);
    const first = await fetch(`${lb.url}/`);
    const cookie = first.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^zephyr_affinity=[0-9a-f]{32}; Path=\/; Max-Age=10800; HttpOnly; SameSite=Lax$/);
    const again = await fetch(`${lb.url}/`, { headers: { cookie: cookie.split(";")[0] as string } });
    expect(again.headers.get("set-cookie")).toBeNull();
  });

  it("/api/health/ready passes through to the instance", async () => {
    const r = await httpFrom(`${lb.url}/api/health/ready`, net(1));
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("ready");
    expect(Object.keys(r.body.checks)).toEqual(expect.arrayContaining(["database", "redis"]));
  });

  it("WebSocket clients behind one address spread evenly; a polling-then-upgrade session keeps its instance", async () => {
    const before = await connections();
    const ws = [];
    for (let i = 0; i < 30; i++) ws.push(await connectFrom(lb.url, VENUE, { transports: ["websocket"] }));
    // The default client of other libraries: a long-polling handshake, then the upgrade request, both of which
    // must reach the same instance.
    const upgraded = await connectFrom(lb.url, VENUE, { transports: ["polling", "websocket"] });
    await waitFor(async () => upgraded.io.engine.transport.name === "websocket", {
      what: "transport upgrade",
    });
    try {
      const added = (await connections()).map((c, i) => c - (before[i] as number));
      expect(added.reduce((a, b) => a + b, 0)).toBe(31);
      // least_conn: each new WebSocket goes to the instance with the fewest.
      for (const n of added) expect(n).toBeGreaterThanOrEqual(10);
      const r = await call(upgraded, "join-poll", { roomCode: "ZZZZZZ", nickname: "x" });
      expect(r.ok ? "ok" : r.error.code).toBe("POLL_NOT_FOUND");
      expect(upgraded.disconnects).toEqual([]);
    } finally {
      close(...ws, upgraded);
    }
  });

  it("long-polling sessions behind one address each keep their instance by cookie, and spread", async () => {
    const created = await httpFrom(`${lb.url}/api/polls`, net(2), {
      body: { question: "Sticky?", options: ["yes", "no"] },
    });
    expect(created.status).toBe(201);
    const clients = [];
    for (let i = 0; i < 12; i++) clients.push(await placed({ transports: ["polling"], upgrade: false }));
    try {
      // Every emit is a POST and every ack arrives on a GET: a request routed to another instance would get
      // "Session ID unknown" and end the session.
      await Promise.all(
        clients.map(async (c, i) => {
          const first = await call(c, "join-poll", { roomCode: created.body.roomCode, nickname: `p${i}` });
          expect(first.ok).toBe(true);
          for (let k = 0; k < 8; k++) {
            const again = await call(c, "join-poll", {
              roomCode: created.body.roomCode,
              participantToken: (first as any).data.participantToken,
            });
            expect(again.ok).toBe(true);
          }
        }),
      );
      for (const c of clients) {
        expect(c.io.engine.transport.name).toBe("polling");
        expect(c.disconnects).toEqual([]);
        expect(c.polls).toBeGreaterThanOrEqual(9);
      }
      // Keyed by each browser's cookie, not the shared address: 12 sessions all on one instance would happen
      // about once in 60,000 runs.
      expect(new Set(clients.map((c) => c.on)).size).toBeGreaterThanOrEqual(2);
    } finally {
      close(...clients);
    }
  });

  it("a vote sent through nginx reaches observers connected through nginx to the other instances", async () => {
    const poll = await httpFrom(`${lb.url}/api/polls`, net(2), {
      body: { question: "Cross-instance?", options: ["a", "b", "c"] },
    });
    const roomCode = poll.body.roomCode as string;
    const voter = await placed({ transports: ["websocket"] });
    const wsObserver = await placed({ transports: ["websocket"] });
    const pollingObserver = await placed({ transports: ["polling"], upgrade: false });
    try {
      // least_conn sent the second WebSocket to another instance than the first.
      expect(wsObserver.on).not.toBe(voter.on);
      for (const [c, name] of [
        [voter, "v"],
        [wsObserver, "o1"],
        [pollingObserver, "o2"],
      ] as const)
        expect((await call(c, "join-poll", { roomCode, nickname: name })).ok).toBe(true);
      expect(await call(voter, "submit-vote", { optionIndex: 2 })).toEqual({
        ok: true,
        data: { optionIndex: 2 },
      });
      for (const o of [wsObserver, pollingObserver])
        await waitFor(async () => o.updates.some((u) => u.roomCode === roomCode && u.counts?.[2] === 1), {
          what: "vote-update on another instance",
        });
      // And an HTTP vote through nginx, on whichever instance nginx picks.
      const joined = await httpFrom(`${lb.url}/api/polls/${roomCode}/participants`, net(9), {
        body: { nickname: "http" },
      });
      const voted = await httpFrom(`${lb.url}/api/polls/${roomCode}/votes`, net(9), {
        body: { optionIndex: 0 },
        headers: { authorization: `Bearer ${joined.body.participantToken}` },
      });
      expect(voted.status).toBe(200);
      for (const o of [voter, wsObserver, pollingObserver])
        await waitFor(async () => o.updates.some((u) => u.roomCode === roomCode && u.total === 2), {
          what: "HTTP vote broadcast",
        });
    } finally {
      close(voter, wsObserver, pollingObserver);
    }
  });

  it("forwarded headers: each client is its own address to the app, and a spoofed X-Forwarded-For is not", async () => {
    const create = (from: string, headers: Record<string, string> = {}) =>
      httpFrom(`${lb.url}/api/polls`, from, { body: { question: "RL?", options: ["a", "b"] }, headers });
    // RATE_LIMIT_POLL_CREATE=3 per client address, counted in the shared Redis across instances.
    for (let i = 0; i < 3; i++) expect((await create(net(60))).status).toBe(201);
    expect((await create(net(60))).status).toBe(429);
    expect((await create(net(60), { "x-forwarded-for": "203.0.113.7" })).status).toBe(429);
    // Another client behind the same nginx is not throttled: the app does not see nginx's own address.
    expect((await create(net(61))).status).toBe(201);
  });

  it("without the affinity cookie and the upgrade headers the same clients fail (the checks above depend on them)", async () => {
    const broken = testCopy(
      committed,
      instances.map((z) => z.port),
      await freePort(),
    )
      .split("\n")
      .filter((l) => !/^\s*(add_header Set-Cookie|proxy_set_header (Upgrade|Connection))\b/.test(l))
      .join("\n");
    control = await startNginx(broken);
    const ws = connectFrom(control.url, net(1), { transports: ["websocket"] });
    await expect(ws).rejects.toThrow();
    // No cookie comes back, so every request of the session is hashed on a new key: the handshake and the
    // following polls land on different instances.
    const outcome = await connectFrom(control.url, net(1), { transports: ["polling"], upgrade: false })
      .then(async (c) => {
        for (let k = 0; k < 6 && c.connected; k++)
          await call(c, "join-poll", { roomCode: "ZZZZZZ" }, 2_000).catch(() => undefined);
        const lost = c.disconnects.length > 0 || !c.connected;
        close(c);
        return lost ? "session lost" : "session kept";
      })
      .catch(() => "connect failed");
    expect(outcome).not.toBe("session kept");
  });

  it("a stopped instance is routed around: its clients' new connections and requests succeed elsewhere", async () => {
    const victim = "backend-3";
    // least_conn places one of three new WebSockets on each instance: keep the victim's, close the others.
    const three = [];
    for (let i = 0; i < 3; i++) three.push(await placed({ transports: ["websocket"], reconnection: true }));
    const survivor = three.find((c) => c.on === victim) as Sock;
    expect(survivor, "a client on the victim").toBeDefined();
    close(...three.filter((c) => c !== survivor));
    const n = 1;
    const proc = byId(victim);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    try {
      const health = await httpFrom(`${lb.url}/api/health`, net(n));
      expect(health.status).toBe(200);
      expect(health.body.instanceId).not.toBe(victim);
      const created = await httpFrom(`${lb.url}/api/polls`, net(n), {
        body: { question: "Failover?", options: ["a", "b"] },
      });
      expect(created.status).toBe(201);
      const ws = await connectFrom(lb.url, net(n), { transports: ["websocket"] });
      const polling = await connectFrom(lb.url, net(n), { transports: ["polling"], upgrade: false });
      for (const c of [ws, polling])
        expect((await call(c, "join-poll", { roomCode: created.body.roomCode, nickname: "moved" })).ok).toBe(
          true,
        );
      // The client that was on the stopped instance reconnects by itself, through nginx, to another one.
      await waitFor(async () => survivor.connected && survivor.disconnects.length > 0, { what: "reconnect" });
      expect(
        (await call(survivor, "join-poll", { roomCode: created.body.roomCode, nickname: "back" })).ok,
      ).toBe(true);
      const counts = await connections();
      expect(counts[ids.indexOf(victim)]).toBe(-1);
      expect(counts.filter((c) => c > 0).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
      close(ws, polling);
    } finally {
      close(survivor);
    }
    expect(lb.output()).not.toMatch(/\[(emerg|alert|crit)\]/);
  });
});
