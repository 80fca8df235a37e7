import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { chromiumPath } from "./browser.js";

export interface PageAudit {
  url: string;
  /** Category scores 0..1 (null when Lighthouse could not score it). */
  accessibility: number | null;
  performance: number | null;
  /** Accessibility audits that did not pass, with what they found. */
  accessibilityFailures: string[];
  metrics: { fcpMs: number; lcpMs: number; tbtMs: number; cls: number; speedIndexMs: number };
}

/**
 * Lighthouse (the npm package) on Debian's Chromium, in its default mobile emulation: a mid-range phone's screen
 * and simulated slow 4G with a 4× slower CPU. One fresh browser per audit, as Lighthouse's own CLI does.
 */
export async function auditPage(
  url: string,
  categories: Array<"accessibility" | "performance"> = ["accessibility", "performance"],
): Promise<PageAudit> {
  const chrome = await chromeLauncher.launch({
    chromePath: chromiumPath(),
    chromeFlags: ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage"],
  });
  try {
    const result = await lighthouse(url, {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      onlyCategories: categories,
    });
    if (!result) throw new Error(`lighthouse returned nothing for ${url}`);
    const { lhr } = result;
    if (lhr.runtimeError) throw new Error(`lighthouse: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
    const audit = (id: string) => lhr.audits[id]?.numericValue ?? Number.NaN;
    const a11y = lhr.categories.accessibility;
    return {
      url,
      accessibility: a11y?.score ?? null,
      performance: lhr.categories.performance?.score ?? null,
      accessibilityFailures: (a11y?.auditRefs ?? [])
        .map((ref) => lhr.audits[ref.id])
        .filter((a) => a && a.score !== null && a.score < 1)
        .map((a) => `${a?.id}: ${a?.title}`),
      metrics: {
        fcpMs: Math.round(audit("first-contentful-paint")),
        lcpMs: Math.round(audit("largest-contentful-paint")),
        tbtMs: Math.round(audit("total-blocking-time")),
        cls: Number(audit("cumulative-layout-shift").toFixed(3)),
        speedIndexMs: Math.round(audit("speed-index")),
      },
    };
  } finally {
    chrome.kill();
  }
}
