import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { api } from "../../../test/zephyr.js";
import { newPoll, startBare, startZephyr, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { cpuWatch } from "../measure.js";
import { QUICK, REPO, S } from "../options.js";

/** GET /api/polls/:code/results on one instance against a bare Hono route returning the same JSON. */

function autocannon(url: string, seconds: number, connections: number) {
  const bin = join(REPO, "node_modules/autocannon/autocannon.js");
  const run = (d: number) =>
    JSON.parse(
      execFileSync(process.execPath, [bin, "-c", String(connections), "-d", String(d), "-j", url], {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["ignore", "pipe", "ignore"],
      }),
    ) as {
      requests: { average: number; total: number };
      latency: { p50: number; p99: number; average: number };
      non2xx: number;
      errors: number;
      timeouts: number;
    };
  if (!QUICK) run(1); // warm-up: JIT, keep-alive sockets, PostgreSQL caches
  const r = run(seconds);
  return {
    reqPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    avgMs: r.latency.average,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

export async function benchHttp() {
  log("http: results endpoint vs bare Hono");
  // The figure comes from an unprofiled instance, like the bare baseline; a second, profiled run explains it.
  const zz = await startZephyr({}, "http", { profile: false });
  const poll = await newPoll(zz.url);
  for (let i = 0; i < 3; i++) {
    const p = await api(zz.url, `/api/polls/${poll.roomCode}/participants`, { body: { nickname: `h${i}` } });
    await api(zz.url, `/api/polls/${poll.roomCode}/votes`, {
      body: { optionIndex: i % 2 },
      token: p.body.participantToken,
    });
  }
  const path = `/api/polls/${poll.roomCode}/results`;
  const results = (await api(zz.url, path)).body;
  const bare = await startBare(["hono", JSON.stringify(results)]);
  const same = JSON.stringify((await api(bare.url, path)).body) === JSON.stringify(results);
  const cz = cpuWatch({ server: [zz.child.pid as number] });
  const zephyr = autocannon(`${zz.url}${path}`, S.httpSeconds, S.httpConnections);
  const zephyrCpu = cz();
  const cb = cpuWatch({ server: [bare.pid] });
  const baseline = autocannon(`${bare.url}${path}`, S.httpSeconds, S.httpConnections);
  const bareCpu = cb();
  await bare.stop();
  await stopZephyrs([zz], "http");
  const pz = await startZephyr({}, "http-profile");
  const profiledPoll = await newPoll(pz.url);
  autocannon(
    `${pz.url}/api/polls/${profiledPoll.roomCode}/results`,
    Math.max(1, S.httpSeconds / 2),
    S.httpConnections,
  );
  const [profile] = await stopZephyrs([pz], "http-profile");
  return {
    connections: S.httpConnections,
    seconds: S.httpSeconds,
    body: results,
    sameJson: same,
    zephyr: { ...zephyr, cpu: zephyrCpu },
    bareHono: { ...baseline, cpu: bareCpu },
    ratio: Math.round((100 * zephyr.reqPerSec) / Math.max(1, baseline.reqPerSec)) / 100,
    profile,
  };
}
