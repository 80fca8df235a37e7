import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type BuiltImage,
  buildImage,
  type Container,
  checkoutContainer,
  checkoutImage,
  imageSize,
  podman,
  podmanOk,
  requirePodman,
  runPodContainer,
} from "../../../test/oci.js";
import { CHART, REPO_ROOT } from "../../../test/paths.js";
import { createDatabase, freePort, requireServices, sql } from "../../../test/services.js";
import { call, connect, type LiveClient } from "../../../test/sockets.js";
import { api, waitFor } from "../../../test/zephyr.js";
import { renderServerPod } from "./support.js";

/**
 * The production image as users get it: app/Dockerfile's runtime target built by a real engine (podman, through
 * `make image`'s script), then started with the security settings, arguments and configuration of the chart's
 * rendered Deployment against real PostgreSQL and Redis. The container shares the host's network only to reach the
 * test's PostgreSQL and Redis on loopback; everything else about it is the pod's.
 */

const oci = requirePodman();
const hasServices = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const redisUrl = inject("redisUrl");

const TAG = checkoutImage("zephyr:runtime");
/** How much the runtime stage may add to its Node.js base (bytes, as podman counts them). */
const MAX_ADDED_BYTES = 60_000_000;
const READY_WITHIN_MS = 10_000;

/** Runs a shell script in a throwaway container of the image, as root, for inspecting its files. */
async function inspectFiles(image: string, script: string): Promise<string> {
  return podmanOk(["run", "--rm", "--user", "0", "--entrypoint", "sh", image, "-c", script]);
}

describe.skipIf(!oci || !hasServices)("the production image, built from app/Dockerfile by podman", () => {
  let image: BuiltImage;
  let base: number;
  const containers: Container[] = [];

  beforeAll(async () => {
    image = await buildImage("runtime", TAG, { nodeImage: oci!.nodeImage });
    base = await imageSize(oci!.nodeImage);
    console.info(`runtime image built in ${image.ms} ms: ${image.size} bytes, base ${base}`);
  }, 900_000);

  afterAll(async () => {
    for (const c of containers) await c.remove();
  });

  it(`adds at most ${MAX_ADDED_BYTES / 1e6} MB to its base and carries no npm, compiler, dev dependency, test file or dev source map`, async () => {
    expect(image.size - base, `added ${((image.size - base) / 1e6).toFixed(1)} MB`).toBeLessThanOrEqual(
      MAX_ADDED_BYTES,
    );
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith("node_modules/") && p.dev)
      .map(([path]) => path);
    const listing = await inspectFiles(
      TAG,
      [
        'for t in npm npx corepack yarn gcc cc c++ make python3 tsc; do command -v $t && echo "tool: $t"; done',
        "ls -d /usr/local/lib/node_modules/* 2>/dev/null | sed 's/^/global: /'",
        "cd /app && find . -type f \\( -name '*.test.*' -o -name '*.spec.*' -o -path '*/__tests__/*' -o -path '*/test/*' \\) | sed 's/^/test: /'",
        "cd /app && find . -type f -name '*.map' | sed 's/^/map: /'",
        "cd /app && find node_modules -mindepth 1 -maxdepth 2 -type d | sed 's/^/dir: /'",
        "cd /app && ls -a app | sed 's/^/app: /'",
      ].join("; "),
    );
    const lines = (prefix: string) =>
      listing
        .split("\n")
        .filter((l) => l.startsWith(prefix))
        .map((l) => l.slice(prefix.length));
    expect(lines("tool: "), "no package manager or compiler").toEqual([]);
    expect(lines("global: "), "no globally installed npm, corepack or yarn").toEqual([]);
    expect(lines("test: "), "no test files").toEqual([]);
    expect(lines("app: ").sort(), "only the compiled app").toEqual([".", "..", "dist"]);
    const installed = new Set(lines("dir: ").map((d) => d.replace(/^\.\//, "")));
    expect(
      devOnly.filter((p) => installed.has(p)),
      "no dev dependency",
    ).toEqual([]);
    expect(installed.has("node_modules/pg") && installed.has("node_modules/socket.io")).toBe(true);
    // Source maps may only describe what runs: the server's own (app/dist, from app/src) and those that production
    // packages publish. A map from a dev dependency (a bundled page's sources, a compiler) would show a leak.
    const devPackage = (path: string) => devOnly.some((p) => path.startsWith(`./${p}/`));
    expect(lines("map: ").filter(devPackage)).toEqual([]);
    const ownMaps = lines("map: ").filter((m) => m.startsWith("./app/"));
    expect(ownMaps.length).toBeGreaterThan(0);
    const sources = JSON.parse(
      await inspectFiles(TAG, `cat /app/${ownMaps.find((m) => m.endsWith("main.js.map"))}`),
    ).sources as string[];
    expect(sources.every((s) => !s.includes("node_modules"))).toBe(true);
  });

  it("runs as uid 10001 by itself, without the chart's runAsUser (Compose and docker run rely on the image's USER)", async () => {
    expect((await podmanOk(["image", "inspect", TAG, "--format", "{{.Config.User}}"])).trim()).toBe(
      "10001:10001",
    );
    expect((await podmanOk(["run", "--rm", "--entrypoint", "id", TAG])).trim()).toMatch(
      /^uid=10001\b.*gid=10001\b/,
    );
  });

  describe("started as the chart starts it", () => {
    let ctr: Container;
    let base: string;
    let dbUrl: string;
    let startedAt: number;
    let readyAfterMs: number;
    let graceSeconds: number;

    beforeAll(async () => {
      // The smallest production values, with the app applying its own migrations.
      const server = await renderServerPod(
        [join(CHART, "ci/minimal-values.yaml")],
        ["migrations.mode=startup"],
      );
      graceSeconds = server.pod.terminationGracePeriodSeconds as number;
      const port = await freePort();
      dbUrl = await createDatabase(pgUrl!, "image");
      startedAt = Date.now();
      ctr = await runPodContainer(checkoutContainer("zephyr-image-test"), TAG, server, {
        ...server.config,
        // Secret-backed in the chart; here the test's own servers.
        DATABASE_URL: dbUrl,
        REDIS_URL: redisUrl!,
        INSTANCE_ID: "zephyr-image-test",
        PORT: String(port),
        // Loopback only: the container shares the host's network for this test.
        HOST: "127.0.0.1",
      });
      containers.push(ctr);
      base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await api(base, "/api/health/ready")).status === 200, {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: `readiness (logs: ${await ctr.logs()})`,
      });
      readyAfterMs = Date.now() - startedAt;
      console.info(`runtime container ready ${readyAfterMs} ms after podman run`);
    }, 120_000);

    it(`answers ready within ${READY_WITHIN_MS / 1000} s, on PostgreSQL and the Redis adapter, as this version`, async () => {
      expect(readyAfterMs).toBeLessThan(READY_WITHIN_MS);
      const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
        version: string;
      };
      expect((await api(base, "/api/health")).body).toMatchObject({
        status: "ok",
        instanceId: "zephyr-image-test",
        version,
        database: { status: "up" },
        redis: { status: "up" },
        usingRedisAdapter: true,
      });
    });

    it("runs as uid 10001 under tini with no capabilities, no privilege escalation and only /tmp writable", async () => {
      const inside = async (script: string) =>
        (await podman(["exec", ctr.name, "sh", "-c", script])).stdout.trim();
      expect(await inside("id -u; id -g")).toBe("10001\n10001");
      expect(await inside("tr '\\0' ' ' </proc/1/cmdline")).toBe("/usr/bin/tini -- node app/dist/main.js");
      const status = await inside("grep -E '^(CapEff|CapPrm|NoNewPrivs|Seccomp):' /proc/1/status");
      expect(status).toMatch(/CapPrm:\s+0{16}/);
      expect(status).toMatch(/CapEff:\s+0{16}/);
      expect(status).toMatch(/NoNewPrivs:\s+1/);
      expect(status).toMatch(/Seccomp:\s+2/);
      for (const dir of ["/app", "/app/app/dist", "/app/node_modules", "/", "/var/tmp", "/run", "/home"])
        expect(await inside(`touch ${dir}/.w 2>&1 && echo writable || echo refused`), dir).toMatch(
          /refused$/,
        );
      expect(await inside("touch /tmp/.w && echo writable")).toBe("writable");
    });

    it("serves a poll over HTTP and Socket.IO: create, join, vote, live update", async () => {
      const poll = (await api(base, "/api/polls", { body: { question: "Shipped?", options: ["yes", "no"] } }))
        .body;
      expect(poll.roomCode).toMatch(/^[A-Z0-9]+$/);
      const sockets: LiveClient[] = [await connect(base), await connect(base)];
      try {
        const [voter, observer] = sockets as [LiveClient, LiveClient];
        expect(
          await call(observer, "join-poll", { roomCode: poll.roomCode, nickname: "observer" }),
        ).toMatchObject({
          ok: true,
        });
        expect(await call(voter, "join-poll", { roomCode: poll.roomCode, nickname: "voter" })).toMatchObject({
          ok: true,
        });
        expect(await call(voter, "submit-vote", { optionIndex: 0 })).toEqual({
          ok: true,
          data: { optionIndex: 0 },
        });
        const viaHttp = (
          await api(base, `/api/polls/${poll.roomCode}/participants`, { body: { nickname: "web" } })
        ).body;
        expect(
          (
            await api(base, `/api/polls/${poll.roomCode}/votes`, {
              body: { optionIndex: 1 },
              token: viaHttp.participantToken,
            })
          ).status,
        ).toBe(200);
        await waitFor(async () => observer.updates.at(-1)?.total === 2, {
          what: "both votes at the observer",
        });
        expect(observer.updates.at(-1)?.counts).toEqual([1, 1]);
        expect((await api(base, `/api/polls/${poll.roomCode}/results`)).body.counts).toEqual([1, 1]);
      } finally {
        for (const s of sockets) s.close();
      }
    });

    it("exits 0 on SIGTERM during a stream of votes, losing no acknowledged vote", async () => {
      const poll = (await api(base, "/api/polls", { body: { question: "Drain?", options: ["a", "b"] } }))
        .body;
      const people = await Promise.all(
        Array.from(
          { length: 300 },
          async (_, i) =>
            (await api(base, `/api/polls/${poll.roomCode}/participants`, { body: { nickname: `p${i}` } }))
              .body,
        ),
      );
      const acknowledged: string[] = [];
      let next = 0;
      const worker = async () => {
        for (let p = people[next++]; p; p = people[next++]) {
          const res = await api(base, `/api/polls/${poll.roomCode}/votes`, {
            body: { optionIndex: 1 },
            token: p.participantToken,
          }).catch(() => undefined); // refused once the listener closed: never acknowledged
          if (res?.status === 200) acknowledged.push(p.participantId);
        }
      };
      const workers = Promise.all(Array.from({ length: 6 }, worker));
      await waitFor(async () => acknowledged.length >= 30, { what: "votes flowing" });
      const signalledAt = Date.now();
      const code = await ctr.stop(graceSeconds);
      const tookMs = Date.now() - signalledAt;
      await workers;
      const logs = await ctr.logs();
      expect(code, logs.slice(-2000)).toBe(0);
      expect(tookMs).toBeLessThan(graceSeconds * 1000);
      expect(logs).toMatch(/"msg":"shutdown complete"/);
      const stored = new Set(
        (
          await sql<{ participant_id: string }>(
            dbUrl,
            "SELECT participant_id FROM votes WHERE poll_id = $1",
            [poll.id],
          )
        ).map((r) => r.participant_id),
      );
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
      console.info(
        `SIGTERM: exit ${code} after ${tookMs} ms; ${acknowledged.length} acknowledged, ${stored.size} stored`,
      );
    }, 120_000);
  });
});
