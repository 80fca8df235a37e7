import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type AdapterRule, adapterRules, expandMetricsQuery } from "../../test/adapter-rules.js";
import { ALERTS_DIR, JOB_SELECTOR, JOB_VALUE } from "../../test/alert-rules.js";
import { selectors } from "../../test/promql.js";
import { scratchDir } from "../../test/scratch.js";
import { requirePromtool } from "../../test/tools.js";

const promtool = requirePromtool();
const rules = adapterRules();
const ruleFor = (name: string) => rules.find((r) => r.name.as === name) as AdapterRule;

/** The HPA's Pods metrics, each with the chart value that names it. */
const HPA_METRICS = [
  { as: "websocket_connections_current", chartKey: "websocketConnections" },
  { as: "http_requests_per_second", chartKey: "requestRate" },
] as const;

const chartAutoscaling = () => {
  const values = join(ALERTS_DIR, "..", "chart", "values.yaml");
  if (!existsSync(values)) return undefined;
  return (parse(readFileSync(values, "utf8")) as { autoscaling: Record<string, { metricName?: string }> })
    .autoscaling;
};

/** Runs one promtool unit test of an expanded metricsQuery; resolves with promtool's output. */
async function promtoolCheck(name: string, inputSeries: object[], expr: string, expSamples: object[]) {
  const dir = scratchDir(`adapter-${name}`);
  writeFileSync(join(dir, "empty.rules.yml"), stringify({ groups: [] }));
  const test = {
    rule_files: ["empty.rules.yml"],
    evaluation_interval: "1m",
    tests: [
      {
        interval: "1m",
        input_series: inputSeries,
        promql_expr_test: [{ expr, eval_time: "5m", exp_samples: expSamples }],
      },
    ],
  };
  writeFileSync(join(dir, "adapter.promtool.yml"), stringify(test));
  const result = await promisify(execFile)(promtool as string, ["test", "rules", "adapter.promtool.yml"], {
    cwd: dir,
    encoding: "utf8",
  }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: `${e.stdout ?? ""}${e.stderr ?? ""}` }));
  return result.stdout;
}

describe("prometheus-adapter values", () => {
  it.each(HPA_METRICS)("expose $as per pod, under the name the chart's HPA asks for", ({ as, chartKey }) => {
    const rule = ruleFor(as);
    expect(rule).toBeDefined();
    expect(rule.resources.overrides).toEqual({
      namespace: { resource: "namespace" },
      pod: { resource: "pod" },
    });
    expect(rule.metricsQuery).toContain("by (<<.GroupBy>>)");
    const autoscaling = chartAutoscaling();
    if (autoscaling) expect(rule.name.as).toBe(autoscaling[chartKey]?.metricName);
  });

  it.each(HPA_METRICS)("select $as's series with the one job selector, in both queries", ({ as }) => {
    const rule = ruleFor(as);
    for (const q of [rule.seriesQuery, expandMetricsQuery(rule, "live", ["a"])]) {
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
  it.skipIf(!promtool)("connections: one value per pod, expanded as the adapter does", async () => {
    const series = (job: string, ns: string, pod: string, value: number) => ({
      series: `websocket_connections_current{job="${job}",namespace="${ns}",pod="${pod}",instance="${pod}:4000"}`,
      values: `${value}x5`,
    });
    const out = await promtoolCheck(
      "connections",
      [
        series(JOB_VALUE, "live", "zephyr-a", 120),
        series(JOB_VALUE, "live", "zephyr-b", 80),
        series(JOB_VALUE, "live", "zephyr-c", 0),
        series("zephyr-podmonitor", "live", "zephyr-a", 120),
        series(JOB_VALUE, "staging", "zephyr-a", 7),
      ],
      expandMetricsQuery(ruleFor("websocket_connections_current"), "live", [
        "zephyr-a",
        "zephyr-b",
        "zephyr-c",
      ]),
      [
        { labels: '{pod="zephyr-a"}', value: 120 },
        { labels: '{pod="zephyr-b"}', value: 80 },
        { labels: '{pod="zephyr-c"}', value: 0 },
      ],
    );
    expect(out).toContain("SUCCESS");
  });

  // Requests per second per pod, summed over routes and statuses: probes, scrapes and unknown paths left out,
  // a second scrape job and another namespace ignored.
  it.skipIf(!promtool)("request rate: per-pod requests per second, without probes and scrapes", async () => {
    // A counter growing by 60·n per minute is n requests per second.
    const counter = (labels: string, perSecond: number) => ({
      series: `http_requests_total{${labels}}`,
      values: `0+${perSecond * 60}x10`,
    });
    const pod = (ns: string, name: string, route: string, status = "200", job = JOB_VALUE) =>
      `job="${job}",namespace="${ns}",pod="${name}",instance="${name}:4000",method="GET",route="${route}",status="${status}"`;
    const out = await promtoolCheck(
      "request-rate",
      [
        counter(pod("live", "zephyr-a", "/api/polls/:roomCode/results"), 300),
        counter(pod("live", "zephyr-a", "/api/polls/:roomCode/votes", "429"), 50),
        counter(pod("live", "zephyr-a", "/metrics"), 1),
        counter(pod("live", "zephyr-a", "/api/health/ready"), 2),
        counter(pod("live", "zephyr-a", "unmatched", "404"), 40),
        counter(pod("live", "zephyr-b", "/j/:roomCode"), 20),
        counter(pod("live", "zephyr-b", "/api/polls/:roomCode/results", "200", "zephyr-podmonitor"), 20),
        counter(pod("staging", "zephyr-a", "/api/polls/:roomCode/results"), 999),
      ],
      expandMetricsQuery(ruleFor("http_requests_per_second"), "live", ["zephyr-a", "zephyr-b"]),
      [
        { labels: '{pod="zephyr-a"}', value: 350 },
        { labels: '{pod="zephyr-b"}', value: 20 },
      ],
    );
    expect(out).toContain("SUCCESS");
  });
});
