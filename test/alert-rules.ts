import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { REPO_ROOT } from "./paths.js";

/** The alert and recording rules as data, for the alerts', the dashboards' and the chart's tests. */

export const ALERTS_DIR = join(REPO_ROOT, "alerts");
export const RULE_FILES = readdirSync(ALERTS_DIR)
  .filter((f) => f.endsWith(".rules.yml"))
  .map((f) => join(ALERTS_DIR, f));

/**
 * The one job selector. The ServiceMonitor's job label, the rules and the adapter rule agree on it; a deployment
 * that scrapes Zephyr under another job replaces this exact text (the chart does so when rendering).
 */
export const JOB_SELECTOR = 'job="zephyr"';
export const JOB_VALUE = "zephyr";

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export function loadGroups(): RuleGroup[] {
  return RULE_FILES.flatMap((f) => (parse(readFileSync(f, "utf8")) as { groups: RuleGroup[] }).groups);
}
