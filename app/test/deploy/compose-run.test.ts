import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage, checkoutImage, podman, podmanOk } from "../../../test/oci.js";
import { freePort } from "../../../test/services.js";
import { call, connect, type LiveClient } from "../../../test/sockets.js";
import { waitFor } from "../../../test/zephyr.js";
import { addClientAddresses, type ClientAddresses, requireClientAddresses } from "./client-addresses.js";
import { type ComposeProject, composeProject, requirePodmanCompose } from "./compose-project.js";
import { httpFrom } from "./support.js";

/**
 * docker-compose.yml run for real: podman-compose 1.6 on podman brings up the repository's file (plus
 * test/compose/podman-override.yml, which swaps image names and start-up waiting, nothing else) with the three
 * backends built from app/Dockerfile and PostgreSQL, Redis and nginx built from Debian's packages. Every client
 * talks to nginx's published port only, from a source address on a host interface (client-addresses.ts: loopback
 * clients would all look like the bridge gateway to nginx): most from one address, as an audience behind a
 * venue's NAT, a few from others to show nginx passes each client's own address on. What compose.test.ts checks
 * of the file's structure and nginx.test.ts of nginx.conf with processes, this checks with the containers.
 */

const tools = requirePodmanCompose();
const ip = tools ? requireClientAddresses() : undefined;

const BACKENDS = ["backend-1", "backend-2", "backend-3"] as const;
/** The image the image tests and the release path build too: one build per checkout, a cache hit when unchanged. */
const BACKEND_IMAGE = checkoutImage("zephyr:runtime");
/** Source addresses: the venue's one, and a few others for the forwarded-address check. */
const ADDRESSES = 4;
/** The audience behind one address, and how far from the mean a backend's share may be. */
const AUDIENCE = 2000;
const SPREAD_TOLERANCE = 0.1;
/** Clients placed on known backends for the cross-backend and failover checks. */
const PER_BACKEND = 6;

type Client = LiveClient & {
  source: string;
  backend: string;
  connects: number[];
  disconnects: number[];
  /** Failed reconnect attempts, with why: what a stuck client shows when the failover test times out. */
  reconnectErrors: string[];
};

describe.skipIf(!tools || !ip)(
  "docker-compose.yml run by podman-compose (real containers, through nginx)",
  () => {
    let project: ComposeProject | undefined;
    let addresses: ClientAddresses | undefined;
    let lb = "";
    const clients: Client[] = [];
    const timings: Record<string, number> = {};
    const containers: Record<string, string> = {};

    /** Each backend's address on the project's bridge network: the host reaches it directly (no port is published). */
    const backendAddress: Record<string, string> = {};
    /** The backend's own /api/health, straight from its address (nginx would pick a backend itself). */
    const health = async (service: string) =>
      (await (await fetch(`http://${backendAddress[service]}:4000/api/health`)).json()) as {
        instanceId: string;
        connections: number;
      };
    const connections = async () =>
      Object.fromEntries(await Promise.all(BACKENDS.map(async (b) => [b, (await health(b)).connections])));

    /** Connects one client through nginx and learns its backend from the backends' connection counts. */
    async function connectPlaced(source: string): Promise<Client> {
      const before = await connections();
      const c = (await connect(lb, { localAddress: source, transports: ["websocket"] })) as Client;
      const after = await connections();
      c.source = source;
      c.backend = BACKENDS.find((b) => after[b] === (before[b] as number) + 1) as string;
      expect(c.backend, "one backend gained the connection").toBeDefined();
      c.connects = [Date.now()];
      c.disconnects = [];
      c.on("connect", () => c.connects.push(Date.now()));
      c.on("disconnect", () => c.disconnects.push(Date.now()));
      c.reconnectErrors = [];
      c.io.on("reconnect_error", (err) => c.reconnectErrors.push(`${Date.now()} ${err.message}`));
      clients.push(c);
      return c;
    }

    beforeAll(async () => {
      if (!tools || !ip) return;
      const t0 = Date.now();
      const image = await buildImage("runtime", BACKEND_IMAGE, { nodeImage: tools.nodeImage });
      timings.imageBuild = image.ms;
      // A free port on every interface (netavark publishes on all of them) and a project name of this run only, so
      // runs never share containers, volumes, networks or the port.
      const port = await freePort("0.0.0.0");
      const name = `zephyr-compose-${randomBytes(4).toString("hex")}`;
      project = composeProject(tools, name, {
        // Like the passwords a user generates, with characters that would need escaping in a URL.
        POSTGRES_PASSWORD: `pg-${randomBytes(9).toString("base64url")}:w@rd/`,
        REDIS_PASSWORD: `redis-${randomBytes(9).toString("base64url")}:w@rd/`,
        ZEPHYR_HTTP_PORT: String(port),
        ZEPHYR_COMPOSE_BACKEND_IMAGE: BACKEND_IMAGE,
        ZEPHYR_COMPOSE_POSTGRES_IMAGE: tools.images.postgres,
        ZEPHYR_COMPOSE_REDIS_IMAGE: tools.images.redis,
        ZEPHYR_COMPOSE_NGINX_IMAGE: tools.images.nginx,
      });
      addresses = await addClientAddresses(ip, ADDRESSES);
      lb = `http://${addresses.target}:${port}`;
      // docker-compose.yml's start-up order (depends_on: service_healthy), which podman-compose cannot wait for on
      // podman 4.3: each stage's services are started, then their own health checks run until they pass.
      const stages = [["postgres", "redis"], [...BACKENDS], ["nginx"]];
      for (const services of stages) {
        const t = Date.now();
        await project.compose(["up", "-d", "--no-build", ...services]);
        for (const s of services) containers[s] = await project.container(s);
        // The first stage created the project's network: stopping a backend later must not change its bridge's MAC.
        if (services === stages[0])
          console.log(`compose-run: bridge MAC pinned: ${await project.pinBridgeMac(ip)}`);
        for (const s of services.filter((x) => x.startsWith("backend-"))) {
          const [info] = JSON.parse(await podmanOk(["inspect", containers[s] as string])) as any[];
          const networks = Object.values(info.NetworkSettings.Networks) as Array<{ IPAddress: string }>;
          backendAddress[s] = networks[0]?.IPAddress as string;
        }
        // The backends' start_period is 60 s; nothing here should need half of it.
        await Promise.all(services.map((s) => project?.waitHealthy(s, 60_000)));
        timings[`up+healthy ${services.join(",")}`] = Date.now() - t;
      }
      timings.beforeAll = Date.now() - t0;
    }, 600_000);

    afterAll(async () => {
      for (const c of clients) c.close();
      console.log("compose-run timings (ms):", JSON.stringify(timings));
      const t = Date.now();
      await project?.destroy();
      await addresses?.remove();
      console.log(`compose-run teardown: ${Date.now() - t} ms`);
    }, 180_000);

    it("the containers run as the compose file says: read-only backends without capabilities, only nginx published", async () => {
      const inspect = JSON.parse(await podmanOk(["inspect", ...Object.values(containers)])) as any[];
      const byService = Object.fromEntries(
        inspect.map((c) => [c.Config.Labels["com.docker.compose.service"], c]),
      );
      for (const b of BACKENDS) {
        const c = byService[b];
        expect(c.State.Health?.Status ?? c.State.Healthcheck?.Status, b).toBe("healthy");
        expect(c.ImageName).toBe(BACKEND_IMAGE);
        expect(c.Config.User).toBe("10001:10001");
        expect(c.HostConfig.ReadonlyRootfs).toBe(true);
        expect(c.HostConfig.CapDrop.length, "cap_drop: ALL").toBeGreaterThan(10);
        expect(c.EffectiveCaps ?? [], b).toEqual([]);
        expect(c.HostConfig.SecurityOpt).toContain("no-new-privileges");
        expect(Object.keys(c.HostConfig.Tmpfs ?? {})).toContain("/tmp");
        // EXPOSE 4000 shows up as a port without a host binding.
        expect(
          Object.values(c.HostConfig.PortBindings ?? {})
            .flat()
            .filter(Boolean),
          "published",
        ).toEqual([]);
        expect(c.Config.Env).toContain(`INSTANCE_ID=${b}`);
      }
      const nginx = byService.nginx;
      expect(Object.keys(nginx.HostConfig.PortBindings)).toEqual(["80/tcp"]);
      expect(nginx.Mounts.map((m: any) => m.Destination)).toEqual(["/etc/nginx/nginx.conf"]);
      const volumes = (s: string) => byService[s].Mounts.map((m: any) => `${m.Name}:${m.Destination}`);
      expect(volumes("postgres")).toEqual([`${project?.name}_postgres-data:/var/lib/postgresql/data`]);
      expect(volumes("redis")).toEqual([`${project?.name}_redis-data:/data`]);
      // Every instance migrated the one database and is ready with it and Redis.
      for (const b of BACKENDS) expect((await health(b)).instanceId).toBe(b);
    });

    it("nginx passes each client's own address on, and spreads HTTP from one address over all three", async () => {
      const venue = addresses?.sources[0] as string;
      const seen = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        const r = await httpFrom(`${lb}/api/health`, venue);
        expect(r.status).toBe(200);
        seen.set(r.body.instanceId, (seen.get(r.body.instanceId) ?? 0) + 1);
      }
      console.log(`30 requests from one address: ${JSON.stringify(Object.fromEntries(seen))}`);
      expect([...seen.keys()].sort()).toEqual([...BACKENDS]);
      for (const source of addresses?.sources ?? [])
        expect((await httpFrom(`${lb}/api/health`, source)).status).toBe(200);
      // What nginx logged as the client address (its access log is the container's stdout): the app gets the
      // same one in X-Forwarded-For, so per-client rate limits are per client, not per nginx.
      const log = await podmanOk(["logs", containers.nginx as string]);
      const logged = new Set(
        [...log.matchAll(/^(\d+\.\d+\.\d+\.\d+) - - .*"GET \/api\/health /gm)].map((m) => m[1]),
      );
      for (const source of addresses?.sources ?? []) expect(logged.has(source), source).toBe(true);
    });

    it(`${AUDIENCE} WebSocket clients behind one address spread over the three backends within 10 % of the mean`, async () => {
      const venue = addresses?.sources[0] as string;
      const before = await connections();
      const crowd: LiveClient[] = [];
      const t = Date.now();
      try {
        for (let i = 0; i < AUDIENCE; i += 100)
          crowd.push(
            ...(await Promise.all(
              Array.from({ length: Math.min(100, AUDIENCE - i) }, () =>
                connect(lb, { localAddress: venue, transports: ["websocket"], reconnection: false }),
              ),
            )),
          );
        timings.audienceConnected = Date.now() - t;
        const after = await connections();
        const added = BACKENDS.map((b) => (after[b] as number) - (before[b] as number));
        const mean = AUDIENCE / BACKENDS.length;
        console.log(
          `${AUDIENCE} clients from ${venue}: ${JSON.stringify(added)} per backend (mean ${mean.toFixed(0)}), ` +
            `connected in ${timings.audienceConnected} ms`,
        );
        expect(added.reduce((a, b) => a + b, 0)).toBe(AUDIENCE);
        for (const [k, n] of added.entries())
          expect(Math.abs(n - mean), BACKENDS[k]).toBeLessThanOrEqual(mean * SPREAD_TOLERANCE);
      } finally {
        for (const c of crowd) c.close();
      }
      await waitFor(
        async () => Object.values(await connections()).every((n, k) => n === Object.values(before)[k]),
        { what: "the audience's connections closed", timeoutMs: 30_000 },
      );
    });

    it("placed clients: each backend gets its share of new WebSockets from one address", async () => {
      const venue = addresses?.sources[0] as string;
      const before = await connections();
      for (let i = 0; i < PER_BACKEND * BACKENDS.length; i++) await connectPlaced(venue);
      const after = await connections();
      console.log(`clients per backend: ${JSON.stringify(after)} (before: ${JSON.stringify(before)})`);
      for (const b of BACKENDS) {
        expect((after[b] as number) - (before[b] as number), b).toBe(PER_BACKEND);
        expect(clients.filter((c) => c.backend === b)).toHaveLength(PER_BACKEND);
      }
    });

    it("a vote on one backend reaches observers on the other two", async () => {
      const poll = await httpFrom(`${lb}/api/polls`, clients[0]?.source as string, {
        body: { question: "Across backends?", options: ["a", "b", "c"] },
      });
      expect(poll.status).toBe(201);
      const roomCode = poll.body.roomCode as string;
      for (const [i, c] of clients.entries())
        expect((await call(c, "join-poll", { roomCode, nickname: `o${i}` })).ok).toBe(true);
      const voter = clients.find((c) => c.backend === "backend-1") as Client;
      expect(await call(voter, "submit-vote", { optionIndex: 1 })).toEqual({
        ok: true,
        data: { optionIndex: 1 },
      });
      for (const c of clients.filter((o) => o.backend !== "backend-1"))
        await waitFor(async () => c.updates.some((u) => u.roomCode === roomCode && u.counts?.[1] === 1), {
          what: `vote-update on ${c.backend}`,
        });
    });

    it("stopping a backend moves its clients to the others through nginx, and no acknowledged vote is lost", async () => {
      const victim = "backend-3";
      const poll = await httpFrom(`${lb}/api/polls`, clients[0]?.source as string, {
        body: { question: "Failover?", options: ["a", "b", "c"] },
      });
      expect(poll.status).toBe(201);
      const roomCode = poll.body.roomCode as string;
      const acked = [0, 0, 0];
      let unconfirmed = 0;
      /** Why joins and votes did not succeed: an error code, or "no ack" (timeout or lost connection). */
      const failures: Record<string, number> = {};
      const failed = (what: string, r: { ok: boolean; error?: { code: string } } | undefined) => {
        const key = `${what} ${r ? r.error?.code : "no ack"}`;
        failures[key] = (failures[key] ?? 0) + 1;
      };
      const lastAcked = new Map<Client, { token: string; option: number }>();
      const movedVotes = new Map<Client, number>();
      const ackedBy = new Map<Client, number>();
      let running = true;
      // Every client keeps adding participants, each voting once, as fast as acks allow (10 votes/s per client
      // at most): votes are in flight on every backend when the victim receives SIGTERM.
      const loops = clients.map(async (c, i) => {
        const option = i % 3;
        for (let n = 0; running; n++) {
          // Waits as long as the test does; a client that never reconnects fails the test's own wait below.
          if (!c.connected)
            await waitFor(async () => c.connected || !running, { timeoutMs: 120_000, intervalMs: 20 });
          if (!running) break;
          const joined = await call(c, "join-poll", { roomCode, nickname: `v${i}-${n}` }).catch(
            () => undefined,
          );
          if (!joined?.ok) {
            failed("join", joined);
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          const sentAt = Date.now();
          const vote = await call(c, "submit-vote", { optionIndex: option }).catch(() => undefined);
          if (vote?.ok) {
            acked[option] = (acked[option] ?? 0) + 1;
            lastAcked.set(c, { token: joined.data.participantToken, option });
            ackedBy.set(c, (ackedBy.get(c) ?? 0) + 1);
            // Sent after its connection to the stopped backend closed: on another backend.
            if (c.backend === victim && sentAt > (c.disconnects[0] ?? Number.POSITIVE_INFINITY))
              movedVotes.set(c, (movedVotes.get(c) ?? 0) + 1);
          } else {
            unconfirmed++;
            failed("vote", vote);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      const moving = clients.filter((c) => c.backend === victim);
      const staying = clients.filter((c) => c.backend !== victim);
      let stopAt = 0;
      try {
        // Votes flowing from every client, on every backend, before the stop.
        await waitFor(async () => clients.every((c) => (ackedBy.get(c) ?? 0) >= 3), {
          timeoutMs: 30_000,
          what: "acknowledged votes from every client",
        });
        stopAt = Date.now();
        // As a user stops one: SIGTERM, and SIGKILL only after the compose file's stop_grace_period (15 s), which
        // podman-compose passes to `podman stop -t` (it is not stored in the container).
        await project?.compose(["stop", victim], 60_000);
        timings.stopCommand = Date.now() - stopAt;
        // Every client of the stopped backend reconnects by itself through nginx and goes on voting elsewhere.
        await waitFor(async () => moving.every((c) => (movedVotes.get(c) ?? 0) >= 2), {
          timeoutMs: 45_000,
          what: "the stopped backend's clients voting through the other backends",
        }).catch(async (err) => {
          // The whole picture of a stuck failover: each moving client's connection history and nginx's view.
          const clientsState = moving.map((c) => ({
            connected: c.connected,
            connects: c.connects.map((t) => t - stopAt),
            disconnects: c.disconnects.map((t) => t - stopAt),
            movedVotes: movedVotes.get(c) ?? 0,
            reconnectErrors: c.reconnectErrors.slice(-3),
          }));
          const nginx = await podman(["logs", "--tail", "400", containers.nginx as string]);
          const nginxLines = `${nginx.stdout}\n${nginx.stderr}`
            .split("\n")
            .filter((l) => /\[(warn|error|crit|alert)\]| (4\d\d|5\d\d) /.test(l))
            .slice(-30);
          throw new Error(
            `${(err as Error).message}\nmoving clients (ms after the stop): ${JSON.stringify(clientsState)}\n` +
              `failures: ${JSON.stringify(failures)}\nnginx:\n${nginxLines.join("\n")}`,
          );
        });
        await new Promise((r) => setTimeout(r, 1_000));
      } finally {
        running = false;
        await Promise.all(loops);
      }
      // Measured first and logged, then asserted, so a failure still shows the whole picture.
      const state = JSON.parse(await podmanOk(["inspect", containers[victim] as string]))[0].State;
      const logs = await podman(["logs", containers[victim] as string]);
      const victimLog = logs.stdout + logs.stderr;
      const logTime = (msg: string) => {
        const line = victimLog.split("\n").find((l) => l.includes(`"msg":"${msg}"`));
        return line ? Date.parse(JSON.parse(line).time) : Number.NaN;
      };
      const sigterm = logTime("shutting down: readiness now 503");
      const exited = logTime("shutdown complete");
      // From the moment the stopped backend closed the client's connection to the client's next connect.
      const reconnectMs = moving
        .map((c) => (c.connects.at(-1) as number) - (c.disconnects[0] as number))
        .sort((a, b) => a - b);
      const after = await Promise.all(
        BACKENDS.filter((b) => b !== victim).map(async (b) => (await health(b)).connections),
      );
      const stored = await httpFrom(`${lb}/api/polls/${roomCode}/results`, clients[0]?.source as string);
      const ackedTotal = acked.reduce((a, b) => a + b, 0);
      console.log(
        `failover: podman-compose stop took ${timings.stopCommand} ms (SIGTERM after ${sigterm - stopAt} ms, ` +
          `shutdown ${exited - sigterm} ms, exit ${state.ExitCode}); reconnects ${reconnectMs.join(", ")} ms ` +
          `after the close; votes acknowledged ${ackedTotal} ${JSON.stringify(acked)}, stored ` +
          `${stored.body.total} ${JSON.stringify(stored.body.counts)}, unconfirmed ${unconfirmed}, not ok ` +
          `${JSON.stringify(failures)}; connections on the others ${JSON.stringify(after)}; disconnects of the ` +
          `others' clients ${staying.reduce((n, c) => n + c.disconnects.length, 0)}`,
      );
      expect(state.Status, "restart: unless-stopped does not restart a stopped container").toBe("exited");
      expect(
        state.ExitCode,
        `a graceful shutdown, not the SIGKILL after the grace period:\n${victimLog.slice(-4000)}`,
      ).toBe(0);
      for (const c of moving) expect(c.disconnects.length, c.backend).toBe(1);
      // The other backends' clients never noticed.
      for (const c of staying) expect(c.disconnects, `a client on ${c.backend}`).toEqual([]);
      expect(
        after.reduce((a, b) => a + b, 0),
        "every client is connected to one of the others",
      ).toBe(clients.length);
      // Acknowledged means committed: every one is stored. A vote whose ack was lost with its connection may be
      // stored too, so the store may hold up to `unconfirmed` more, never fewer.
      expect(stored.status).toBe(200);
      for (let k = 0; k < 3; k++)
        expect(stored.body.counts[k], `option ${k}`).toBeGreaterThanOrEqual(acked[k] as number);
      expect(stored.body.total - ackedTotal).toBeLessThanOrEqual(unconfirmed);
      // A bound, not a goal: reconnect delays of up to 1 s, plus nginx's connect timeout (1 s) should a reconnect
      // be sent to the vanished container's address before nginx has marked it down, with room for a loaded machine.
      expect(reconnectMs.at(-1)).toBeLessThan(6_000);
      // New requests are served by the others.
      for (let i = 0; i < 6; i++) {
        const r = await httpFrom(`${lb}/api/health`, addresses?.sources[0] as string);
        expect(r.status).toBe(200);
        expect(r.body.instanceId).not.toBe(victim);
      }
      // Each moved client's last acknowledged participant, rejoined by token, still has its vote.
      for (const c of moving) {
        const last = lastAcked.get(c) as { token: string; option: number };
        const again = await call(c, "join-poll", { roomCode, participantToken: last.token });
        expect(again.ok && again.data.yourVote, c.backend).toBe(last.option);
      }
    }, 120_000);
  },
);
