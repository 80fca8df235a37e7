import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadGroups } from "../../test/alert-rules.js";
import {
  dashboards,
  files,
  panelsOf,
  queriesOf,
  SUBSTITUTE,
  substituteVariables,
} from "../../test/dashboard-queries.js";
import { metricNames, ranges, selectors } from "../../test/promql.js";
import { scratchDir } from "../../test/scratch.js";
import { requirePromtool } from "../../test/tools.js";
import { DATASOURCE } from "../src/common.js";
import { GENERATED_DIR, writeDashboards } from "../src/generate.js";

const promtool = requirePromtool();
const recorded = new Set(
  loadGroups()
    .flatMap((g) => g.rules)
    .flatMap((r) => (r.record ? [r.record] : [])),
);

describe("generated dashboards", () => {
  it("are what the generator produces now (run `npm run dashboards` after editing dashboards/src)", () => {
    const dir = scratchDir("dashboards");
    const written = writeDashboards(dir).map((f) => f.slice(dir.length + 1));
    expect(written.sort()).toEqual([...files].sort());
    for (const f of written) {
      expect(readFileSync(join(dir, f), "utf8"), `${f} is stale`).toBe(
        readFileSync(join(GENERATED_DIR, f), "utf8"),
      );
    }
  });

  it("include the overview and the scaling dashboard", () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(["zephyr-overview", "zephyr-scaling"]);
  });

  it.each(dashboards.map((d) => [d.uid, d] as const))(
    "%s has datasource, job and instance variables",
    (_, d) => {
      const vars = new Map(d.templating.list.map((v) => [v.name, v]));
      expect(vars.get("datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
      expect(vars.get("job")).toMatchObject({ type: "query", datasource: { uid: DATASOURCE.uid } });
      // The job is discovered from a Zephyr-only metric, never written into the dashboard.
      expect(vars.get("job")?.query).toMatch(/^label_values\(zephyr_build_info, job\)$/);
      expect(vars.get("instance")).toMatchObject({ type: "query", includeAll: true, allValue: ".*" });
      for (const v of d.templating.list.filter((x) => x.type === "query")) {
        const used = [...(v.query ?? "").matchAll(/\$(\w+)/g)].map((m) => `$${m[1]}`);
        for (const u of used) expect(Object.keys(SUBSTITUTE), `${v.name} uses ${u}`).toContain(u);
      }
    },
  );

  it.each(dashboards.map((d) => [d.uid, d] as const))(
    "%s: every panel has a unit, a title and queries",
    (_, d) => {
      for (const p of panelsOf(d)) {
        expect(p.title, `panel ${p.id}`).toBeTruthy();
        expect(p.fieldConfig?.defaults?.unit, `${p.title} has no unit`).toBeTruthy();
        expect(p.targets?.length, `${p.title} has no query`).toBeGreaterThan(0);
        expect(p.datasource).toEqual({ type: "prometheus", uid: DATASOURCE.uid });
      }
      const ids = panelsOf(d).map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
    },
  );

  it.each(dashboards.map((d) => [d.uid, d] as const))(
    "%s: queries use $__rate_interval, the datasource variable and the job variable",
    (_, d) => {
      const problems: string[] = [];
      for (const { panel, expr, target } of queriesOf(d)) {
        if (target.datasource?.uid !== DATASOURCE.uid) problems.push(`${panel}: query not on $datasource`);
        for (const r of ranges(expr)) if (r !== "$__rate_interval") problems.push(`${panel}: range [${r}]`);
        for (const v of expr.match(/\$\{?\w+\}?/g) ?? []) {
          if (!(v in SUBSTITUTE)) problems.push(`${panel}: unknown variable ${v}`);
        }
        const sels = selectors(expr);
        const zephyr = sels.some((s) =>
          s.matchers.some((m) => m.label === "job" && m.op === "=" && m.value === "$job"),
        );
        for (const s of sels) {
          const names = metricNames(s);
          if (names.some((n) => n.includes(":"))) {
            for (const n of names)
              if (!recorded.has(n)) problems.push(`${panel}: ${n} is not a recording rule`);
            continue;
          }
          if (names.every((n) => n.startsWith("kube_"))) {
            if (!zephyr && !sels.some((x) => x.name && recorded.has(x.name)))
              problems.push(`${panel}: ${names} not tied to Zephyr`);
            continue;
          }
          const job = s.matchers.find((m) => m.label === "job");
          if (job?.op !== "=" || job.value !== "$job")
            problems.push(`${panel}: ${s.name} without job="$job"`);
          if (!s.matchers.some((m) => m.label === "namespace" && m.value === "$namespace")) {
            problems.push(`${panel}: ${s.name} without the namespace filter`);
          }
        }
      }
      expect(problems).toEqual([]);
    },
  );

  // promtool has no "parse this query" command, but check rules parses every expression of a rule file.
  it.skipIf(!promtool)("every panel query parses (promtool check rules, variables substituted)", async () => {
    const dir = scratchDir("panel-queries");
    const rules = dashboards.flatMap((d) =>
      queriesOf(d).map(({ panel, expr, target }, i) => ({
        record: `dashboard_query_${d.uid.replaceAll("-", "_")}_${i}`,
        expr: substituteVariables(expr),
        labels: { panel, ref: target.refId ?? "" },
      })),
    );
    expect(rules.length).toBeGreaterThan(20);
    const file = join(dir, "panel-queries.rules.yml");
    writeFileSync(file, stringify({ groups: [{ name: "dashboard-queries", rules }] }));
    const { stdout } = await promisify(execFile)(promtool as string, ["check", "rules", file], {
      encoding: "utf8",
    }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool rejected a panel query:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
    });
    expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
