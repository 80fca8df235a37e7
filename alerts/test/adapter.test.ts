import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { adapterRules, expandMetricsQuery } from "../../test/adapter-rules.js";
import { ALERTS_DIR, JOB_SELECTOR, JOB_VALUE } from "../../test/alert-rules.js";
import { selectors } from "../../test/promql.js";
import { scratchDir } from "../../test/scratch.js";
import { requirePromtool } from "../../test/tools.js";

const promtool = requirePromtool();
const rules = adapterRules();
const connections = rules.find((r) => r.name.as === "websocket_connections_current");

describe("prometheus-adapter values", () => {
  it("expose websocket_connections_current per pod", () => {
    expect(connections).toBeDefined();
    expect(connections?.resources.overrides).toEqual({
      namespace: { resource: "namespace" },
      pod: { resource: "pod" },
    });
    expect(connections?.metricsQuery).toContain("by (<<.GroupBy>>)");
  });

  it("name the metric the chart's HPA asks for", () => {
    const values = join(ALERTS_DIR, "..", "chart", "values.yaml");
    if (!existsSync(values)) return;
    const chart = parse(readFileSync(values, "utf8")) as {
      autoscaling?: { websocketConnections?: { metricName?: string } };
    };
    expect(connections?.name.as).toBe(chart.autoscaling?.websocketConnections?.metricName);
  });

  it("select the series with the one job selector, in both queries", () => {
    for (const q of [
      connections?.seriesQuery ?? "",
      expandMetricsQuery(connections as never, "live", ["a"]),
    ]) {
      expect(q).toContain(JOB_SELECTOR);
      for (const s of selectors(q)) {
        expect(s.matchers.filter((m) => m.label === "job")).toEqual([
          { label: "job", op: "=", value: JOB_VALUE },
        ]);
      }
    }
  });

  // Evaluates the query the adapter would send against a double-scraped pod and a pod of another namespace:
  // exactly one value per requested pod, each the pod's own connection count.
  it.skipIf(!promtool)("metricsQuery, expanded as the adapter does, returns one value per pod", async () => {
    const dir = scratchDir("adapter");
    writeFileSync(join(dir, "empty.rules.yml"), stringify({ groups: [] }));
    const series = (job: string, ns: string, pod: string, value: number) => ({
      series: `websocket_connections_current{job="${job}",namespace="${ns}",pod="${pod}",instance="${pod}:4000"}`,
      values: `${value}x5`,
    });
    const test = {
      rule_files: ["empty.rules.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            series(JOB_VALUE, "live", "zephyr-a", 120),
            series(JOB_VALUE, "live", "zephyr-b", 80),
            series(JOB_VALUE, "live", "zephyr-c", 0),
            series("zephyr-podmonitor", "live", "zephyr-a", 120),
            series(JOB_VALUE, "staging", "zephyr-a", 7),
          ],
          promql_expr_test: [
            {
              expr: expandMetricsQuery(connections as never, "live", ["zephyr-a", "zephyr-b", "zephyr-c"]),
              eval_time: "5m",
              exp_samples: [
                { labels: '{pod="zephyr-a"}', value: 120 },
                { labels: '{pod="zephyr-b"}', value: 80 },
                { labels: '{pod="zephyr-c"}', value: 0 },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, "adapter.promtool.yml"), stringify(test));
    const result = await promisify(execFile)(promtool as string, ["test", "rules", "adapter.promtool.yml"], {
      cwd: dir,
      encoding: "utf8",
    }).catch((e: { stdout?: string; stderr?: string }) => ({
      stdout: `${e.stdout ?? ""}${e.stderr ?? ""}`,
      failed: true,
    }));
    expect(result.stdout).toContain("SUCCESS");
  });
});
