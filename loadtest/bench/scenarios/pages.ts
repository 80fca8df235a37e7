import { chromiumPath } from "../../../test/browser.js";
import { auditPage, type PageAudit } from "../../../test/lighthouse.js";
import { newPoll, startZephyr, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { QUICK } from "../options.js";

/**
 * Lighthouse's performance score of the audience page (what a phone opens from the QR code), in its default
 * mobile emulation (slow 4G, 4× slower CPU, simulated), on a compiled instance. The same-run baseline is /join,
 * the smallest page the app serves (the shell and the entry chunk, no socket): the difference is what the
 * audience page itself costs. Medians of a few runs, because the score is timing-based.
 */
export async function benchPages() {
  if (!chromiumPath()) throw new Error("chromium not found (.ci/setup.d/10-apt.sh)");
  const z = await startZephyr({}, "pages", { profile: false });
  const poll = await newPoll(z.url);
  const runs = QUICK ? 1 : 5;
  const audience: PageAudit[] = [];
  const join: PageAudit[] = [];
  for (let i = 0; i < runs; i++) {
    audience.push(await auditPage(`${z.url}/j/${poll.roomCode}`, ["performance"]));
    join.push(await auditPage(`${z.url}/join`, ["performance"]));
    log(
      `pages: run ${i + 1}/${runs}: audience ${audience.at(-1)?.performance}, join ${join.at(-1)?.performance}`,
    );
  }
  await stopZephyrs([z], "pages");
  return { date: new Date().toISOString(), runs, audience: median(audience), join: median(join) };
}

/** The run with the median performance score, and every run's score. */
function median(audits: PageAudit[]) {
  const sorted = [...audits].sort((a, b) => (a.performance ?? 0) - (b.performance ?? 0));
  const mid = sorted[Math.floor(sorted.length / 2)] as PageAudit;
  return {
    performance: Math.round((mid.performance ?? 0) * 100),
    scores: audits.map((a) => Math.round((a.performance ?? 0) * 100)),
    metrics: mid.metrics,
  };
}
