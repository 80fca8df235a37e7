import { execFile } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ALERTS_DIR, JOB_SELECTOR, JOB_VALUE, loadGroups, RULE_FILES } from "../../test/alert-rules.js";
import { metricNames, selectors } from "../../test/promql.js";
import { scratchDir } from "../../test/scratch.js";
import { requirePromtool } from "../../test/tools.js";
import { durationMs, githubAnchors, loadTestFiles, TEST_FILES } from "./promtool-cases.js";

const promtool = requirePromtool();

async function run(args: string[], cwd = ALERTS_DIR): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(promtool as string, args, { cwd, encoding: "utf8" });
    return { ok: true, output: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

/** One promtool per test file, side by side: the unit tests are CPU-bound and promtool uses one core. */
async function testRules(files: string[], cwd = ALERTS_DIR) {
  const results = await Promise.all(files.map((f) => run(["test", "rules", f], cwd)));
  return { ok: results.every((r) => r.ok), output: results.map((r) => r.output).join("\n"), results };
}

const groups = loadGroups();
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert);
const recorded = new Map(rules.filter((r) => r.record).map((r) => [r.record as string, r]));
const testFiles = loadTestFiles();
describe.skipIf(!promtool).concurrent("promtool", () => {
  it("accepts the rule files", async () => {
    const r = await run(["check", "rules", ...RULE_FILES]);
    expect(r.output).toContain("SUCCESS");
    expect(r.ok, r.output).toBe(true);
  });

  it("passes the unit tests", async () => {
    const r = await testRules(TEST_FILES);
    expect(r.ok, r.output).toBe(true);
    expect(r.results.filter((x) => x.output.includes("SUCCESS")).length).toBe(TEST_FILES.length);
  });

  // The chart renders the rules with the job value replaced as text; this is that replacement, applied to the
  // rules and to the test input, and every test must still pass. A selector written any other way (job=~,
  // spacing, a second literal) would no longer match the renamed input and its firing test would fail.
  it("keeps passing when the job selector is replaced as the chart does", async () => {
    const dir = scratchDir("rules");
    cpSync(ALERTS_DIR, dir, { recursive: true, filter: (src) => !src.includes("/test/") });
    const other = 'job="live-polls"';
    for (const f of [...RULE_FILES, ...TEST_FILES]) {
      const target = join(dir, f.slice(ALERTS_DIR.length));
      let text = readFileSync(f, "utf8").replaceAll(JOB_SELECTOR, other);
      // Expected alert labels carry the job value in YAML form (job: zephyr).
      if (f.endsWith(".promtool.yml")) text = text.replaceAll(`job: ${JOB_VALUE}`, "job: live-polls");
      text = text.replaceAll(`(job ${JOB_VALUE})`, "(job live-polls)");
      writeFileSync(target, text);
    }
    const r = await testRules(
      TEST_FILES.map((f) => join("promtool-tests", basename(f))),
      dir,
    );
    expect(r.ok, r.output).toBe(true);
  });
});

describe("alert rules", () => {
  it("exist", () => {
    expect(alerts.map((a) => a.alert)).toEqual(expect.arrayContaining(["InstanceDown", "UnbalancedLoad"]));
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))(
    "%s has severity, summary, description, runbook_url and a for",
    (_, a) => {
      expect(["warning", "critical"]).toContain(a.labels?.severity);
      expect(a.annotations?.summary?.length).toBeGreaterThan(10);
      expect(a.annotations?.description?.length).toBeGreaterThan(20);
      expect(a.annotations?.runbook_url).toMatch(
        /^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/main\/alerts\/RUNBOOK\.md#[a-z0-9-]+$/,
      );
      expect(durationMs(a.for ?? "")).toBeGreaterThan(0);
    },
  );

  it("link to runbook sections that exist", () => {
    const anchors = githubAnchors(readFileSync(join(ALERTS_DIR, "RUNBOOK.md"), "utf8"));
    const missing = alerts
      .map((a) => a.annotations?.runbook_url?.split("#")[1] ?? "")
      .filter((anchor) => !anchors.has(anchor));
    expect(missing).toEqual([]);
  });

  it("select Zephyr's series with the one job selector, and nothing else by job", () => {
    const problems: string[] = [];
    for (const r of rules) {
      const name = r.alert ?? r.record;
      const sels = selectors(r.expr);
      const tiedToZephyr = sels.some(
        (s) =>
          s.matchers.some((m) => `${m.label}="${m.value}"` === JOB_SELECTOR && m.op === "=") ||
          (s.name && recorded.has(s.name)),
      );
      for (const s of sels) {
        const label = s.name ?? JSON.stringify(s.matchers);
        for (const m of s.matchers.filter((x) => x.label === "job")) {
          if (m.op !== "=" || m.value !== JOB_VALUE)
            problems.push(`${name}: ${label} selects job${m.op}"${m.value}"`);
        }
        const names = metricNames(s);
        if (names.some((n) => n.includes(":"))) {
          for (const n of names)
            if (!recorded.has(n)) problems.push(`${name}: ${n} is not recorded by any rule`);
          continue;
        }
        // kube-state-metrics series carry its own job; the expression must join them to Zephyr's pods.
        if (names.every((n) => n.startsWith("kube_"))) {
          if (!tiedToZephyr) problems.push(`${name}: ${label} is not tied to job="${JOB_VALUE}"`);
          continue;
        }
        if (!s.matchers.some((m) => m.label === "job")) problems.push(`${name}: ${label} has no job matcher`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("promtool unit tests", () => {
  const ruleGroupNames = groups.map((g) => g.name);

  it.each(testFiles.map((t) => [basename(t.file), t.doc] as const))(
    "%s orders every rule group, recording rules first",
    (_, doc) => {
      expect(doc.group_eval_order).toEqual(ruleGroupNames);
      expect(ruleGroupNames[0]).toBe("zephyr.recording");
    },
  );

  // A firing case alone would pass with `for: 0` or a threshold far below the intended one; the pending case
  // (same input, earlier evaluation) and a below-threshold group (never fires) pin both down.
  it.each(alerts.map((a) => [a.alert as string]))(
    "%s has a firing, a pending and a below-threshold case",
    (alert) => {
      const testGroups = testFiles.flatMap((t) => t.doc.tests);
      const casesIn = (g: (typeof testGroups)[number]) =>
        (g.alert_rule_test ?? []).filter((c) => c.alertname === alert);
      const fires = (c: { exp_alerts?: unknown[] | null }) => (c.exp_alerts ?? []).length > 0;

      const firingGroups = testGroups.filter((g) => casesIn(g).some(fires));
      expect(firingGroups.length, "no test where it fires").toBeGreaterThan(0);

      const withPending = firingGroups.filter((g) => {
        const cases = casesIn(g);
        const firstFiring = Math.min(...cases.filter(fires).map((c) => durationMs(c.eval_time)));
        return cases.some((c) => !fires(c) && durationMs(c.eval_time) < firstFiring);
      });
      expect(withPending.length, "no quiet evaluation before it fires (for not elapsed)").toBeGreaterThan(0);

      const neverFiring = testGroups.filter((g) => casesIn(g).length > 0 && !casesIn(g).some(fires));
      expect(neverFiring.length, "no test where it stays quiet below the threshold").toBeGreaterThan(0);
    },
  );
});
