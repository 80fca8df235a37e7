import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { killZephyrs } from "./instances.js";
import { log } from "./log.js";
import { loadAverage, runMeta } from "./meta.js";
import { ONLY, OUT, REPO, S } from "./options.js";
import { cleanup, stopEverythingOnExit } from "./processes.js";
import { renderReport } from "./report.js";
import { benchAnswers } from "./scenarios/answers.js";
import { benchCapacity } from "./scenarios/capacity.js";
import { benchConnections } from "./scenarios/connections.js";
import { benchFanout } from "./scenarios/fanout.js";
import { benchHttp } from "./scenarios/http.js";
import { benchJoinStorm } from "./scenarios/join-storm.js";
import { benchPages } from "./scenarios/pages.js";
import { benchRooms } from "./scenarios/rooms.js";
import { benchVotes } from "./scenarios/votes.js";
import { postgresVersion, startServices } from "./services.js";

/**
 * The benchmark harness: real PostgreSQL and Redis, compiled Zephyr instances, and every figure next to a
 * baseline measured in the same run. Load comes from separate processes (worker.ts over raw WebSockets from
 * several 127.0.0.x addresses, autocannon for HTTP). Options in options.ts; each section in scenarios/.
 */

// The capacity anchor comes last: the model it checks takes its unit costs from the sections before it.
const sections: Array<[string, (report: Record<string, unknown>) => Promise<unknown>]> = [
  ["http", benchHttp],
  ["votes", benchVotes],
  ["answers", benchAnswers],
  ["fanout", benchFanout],
  ["rooms", benchRooms],
  ["connections", benchConnections],
  ["joinStorm", benchJoinStorm],
  ["pages", benchPages],
  ["capacity", benchCapacity],
];

async function main() {
  const started = Date.now();
  stopEverythingOnExit(S.deadlineMs);
  if (!existsSync(join(REPO, "app/dist/main.js")))
    execFileSync("npm", ["run", "--silent", "build"], { cwd: REPO, stdio: "inherit" });
  const meta: ReturnType<typeof runMeta> & { durationSeconds?: number; loadAverageAtEnd?: string } =
    runMeta(S);
  await startServices();
  meta.versions.postgres = await postgresVersion();
  // --only re-measures one section into the report already there, which says when and under what load.
  const previous = ONLY ? readPrevious() : undefined;
  const report: Record<string, unknown> = previous ?? { meta };
  if (previous) {
    const m = previous.meta as { rerun?: unknown[] };
    m.rerun = [
      ...(m.rerun ?? []).filter((r) => (r as { section: string }).section !== ONLY),
      { section: ONLY, date: meta.date, loadAverageAtStart: meta.machine.loadAverageAtStart },
    ];
  }
  for (const [name, run] of sections) {
    if (ONLY && ONLY !== name) continue;
    try {
      report[name] = await run(report);
    } catch (e) {
      log(`${name} failed:`, e);
      report[name] = { error: String((e as Error).stack ?? e) };
      killZephyrs();
    }
  }
  if (!previous) {
    meta.durationSeconds = Math.round((Date.now() - started) / 1000);
    meta.loadAverageAtEnd = loadAverage();
  }
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(OUT, "REPORT.md"), renderReport(report as never));
  log(`wrote ${join(OUT, "REPORT.md")} and report.json`);
  await cleanup();
  const failed = Object.entries(report).filter(([, v]) => (v as { error?: string })?.error);
  process.exit(failed.length ? 1 : 0);
}

/** The full report in the output folder, if it was made in the same mode (a quick report is no base for a full one). */
function readPrevious(): Record<string, unknown> | undefined {
  try {
    const r = JSON.parse(readFileSync(join(OUT, "report.json"), "utf8"));
    return r?.meta?.mode === runMeta(S).mode ? r : undefined;
  } catch {
    return undefined;
  }
}

main().catch(async (e) => {
  console.error(e);
  await cleanup();
  process.exit(1);
});
