/** The generated dashboards as data, for the dashboards' tests and the live-Prometheus test of alerts/. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DATASOURCE } from "../dashboards/src/common.js";
import { GENERATED_DIR } from "../dashboards/src/generate.js";

export interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
export interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  type: string;
  name: string;
  query?: string;
  datasource?: { type?: string; uid?: string };
  includeAll?: boolean;
  allValue?: string;
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

export const files = readdirSync(GENERATED_DIR).filter((f) => f.endsWith(".json"));
export const dashboards = files.map(
  (f) => JSON.parse(readFileSync(join(GENERATED_DIR, f), "utf8")) as Dashboard,
);
export const panelsOf = (d: Dashboard) =>
  d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== "row");
export const queriesOf = (d: Dashboard) =>
  panelsOf(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title ?? "?", expr: t.expr ?? "", target: t })),
  );
/** Values for the dashboard variables as Grafana would interpolate them with "All" selected. */
export const SUBSTITUTE: Record<string, string> = {
  $__rate_interval: "1m",
  [DATASOURCE.uid]: "prometheus",
  $job: "zephyr",
  $namespace: ".*",
  $instance: ".*",
};
export function substituteVariables(expr: string): string {
  let out = expr;
  for (const [k, v] of Object.entries(SUBSTITUTE)) out = out.replaceAll(k, v);
  return out;
}
