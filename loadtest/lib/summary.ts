import { envString } from "./config.ts";

/** The subset of k6's end-of-test data that the summary reads. */
export interface SummaryData {
  metrics: Record<
    string,
    { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }
  >;
  [k: string]: unknown;
}

/**
 * handleSummary for every scenario: the full k6 data as JSON (SUMMARY_DIR, default the working directory) for
 * CI artifacts and comparisons between runs, and a short text of the zephyr_ metrics and thresholds on stdout.
 */
export function summaryHandler(scenario: string): (data: SummaryData) => Record<string, string> {
  return (data) => {
    const dir = envString("SUMMARY_DIR", ".").replace(/\/+$/, "");
    const lines = [`zephyr ${scenario} (profile ${envString("PROFILE", "smoke")})`];
    let failed = 0;
    for (const name of Object.keys(data.metrics).sort()) {
      const m = data.metrics[name];
      if (!m) continue;
      const th = m.thresholds ?? {};
      const bad = Object.keys(th).filter((k) => !th[k]?.ok);
      failed += bad.length;
      if (!name.startsWith("zephyr_") && Object.keys(th).length === 0) continue;
      const vals = Object.keys(m.values)
        .map((k) => `${k}=${formatValue(m.values[k])}`)
        .join(" ");
      const mark = Object.keys(th).length === 0 ? " " : bad.length === 0 ? "✓" : "✗";
      lines.push(`${mark} ${name} ${vals}${bad.length ? `  FAILED: ${bad.join(", ")}` : ""}`);
    }
    lines.push(failed === 0 ? "all thresholds passed" : `${failed} threshold(s) failed`);
    return {
      [`${dir}/zephyr-${scenario}-summary.json`]: JSON.stringify(data, null, 2),
      stdout: `${lines.join("\n")}\n`,
    };
  };
}

function formatValue(v: number | undefined): string {
  if (v === undefined) return "-";
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
