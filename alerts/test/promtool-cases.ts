import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ALERTS_DIR } from "../../test/alert-rules.js";

/** The promtool rule unit tests as data, for the conventions promtool.test.ts checks. */

/** promtool's rule unit tests: alerts/promtool-tests/*.promtool.yml (the vitest files are in alerts/test/). */
export const PROMTOOL_TESTS_DIR = join(ALERTS_DIR, "promtool-tests");
export const TEST_FILES = readdirSync(PROMTOOL_TESTS_DIR)
  .filter((f) => f.endsWith(".promtool.yml"))
  .map((f) => join(PROMTOOL_TESTS_DIR, f));

export interface AlertTestCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[] | null;
}
export interface TestGroup {
  name?: string;
  alert_rule_test?: AlertTestCase[];
}
export interface TestFile {
  rule_files: string[];
  group_eval_order?: string[];
  tests: TestGroup[];
}

export function loadTestFiles(): { file: string; doc: TestFile }[] {
  return TEST_FILES.map((file) => ({ file, doc: parse(readFileSync(file, "utf8")) as TestFile }));
}

/** Go duration as used in rule files and tests (1h30m, 5m, 90s) to milliseconds. */
export function durationMs(d: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d)/g;
  let consumed = 0;
  for (let m = re.exec(d); m; m = re.exec(d)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    consumed += m[0].length;
  }
  if (consumed !== d.length || d.length === 0) throw new Error(`not a duration: ${d}`);
  return total;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
export function githubAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    anchors.add(
      (m[1] as string)
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    );
  }
  return anchors;
}
