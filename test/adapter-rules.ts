/** prometheus-adapter's rules (alerts/prometheus-adapter-values.yaml) as data, for the alerts' and the chart's tests. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ALERTS_DIR } from "./alert-rules.js";

export const ADAPTER_VALUES = join(ALERTS_DIR, "prometheus-adapter-values.yaml");

export interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

export function adapterRules(): AdapterRule[] {
  return (parse(readFileSync(ADAPTER_VALUES, "utf8")) as { rules: { custom: AdapterRule[] } }).rules.custom;
}

/**
 * The metricsQuery as prometheus-adapter sends it when the HPA asks for `pods/*` in one namespace: the series
 * name, the namespace and pod-list matchers, grouped by pod.
 */
export function expandMetricsQuery(rule: AdapterRule, namespace: string, pods: string[]): string {
  const series = rule.name.matches.replace(/^\^/, "").replace(/\$$/, "");
  const matchers = `namespace="${namespace}",pod=~"${pods.join("|")}"`;
  return rule.metricsQuery
    .replaceAll("<<.Series>>", series)
    .replaceAll("<<.LabelMatchers>>", matchers)
    .replaceAll("<<.GroupBy>>", "pod");
}
