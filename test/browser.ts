import { createRequire } from "node:module";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { findTool, requireTool } from "./tools.js";

const CANDIDATES = ["/usr/bin/chromium"];

/**
 * Debian's Chromium (installed by .ci/setup.d/10-apt.sh) driven by playwright-core: the driver library without
 * the browser downloads, which cannot happen here. Its path, or `undefined` after the kit's skip-or-fail.
 */
export const requireChromium = () =>
  requireTool("chromium", CANDIDATES, "installed by .ci/setup.d/10-apt.sh (apt-get install chromium)");

/** Where Chromium is, without skipping or failing (for callers that report a missing browser themselves). */
export const chromiumPath = () => findTool("chromium", CANDIDATES);

/** Headless Chromium; no sandbox because CI runs as root, where Chromium refuses its sandbox. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

export const PROJECTOR = { width: 1280, height: 720 };
export const PHONE = { width: 360, height: 640 };

/** A phone-sized context: its own storage, so its own participant, like one person's phone. */
export function phoneContext(browser: Browser, options: Parameters<Browser["newContext"]>[0] = {}) {
  return browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, locale: "en-US", ...options });
}

/**
 * Everything a page reports that should never happen: uncaught exceptions, console errors (Content-Security-Policy
 * violations land there) and failed requests other than deliberate aborts. Tests assert it stays empty.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return problems;
}

const axeSource: string = createRequire(import.meta.url)("axe-core").source;

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/**
 * axe-core's violations on the page as it is now (every rule that is not experimental). axe is evaluated
 * through the DevTools protocol, which the page's CSP does not govern, so the page runs with its real policy.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  // A string, evaluated in the page: the test's own TypeScript has no DOM.
  const result = await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))`);
  return result as AxeViolation[];
}

/** Readable violations for an assertion message. */
export const describeViolations = (vs: AxeViolation[]) =>
  vs.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);

export type { Browser, BrowserContext, Page };
