import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { createK6Runtime, type MetricStore } from "./k6-shim.js";

/**
 * Smoke check of k6 script logic (not a load generator): transpiles the TypeScript scripts the way k6 does
 * (types stripped, nothing bundled), maps the k6 module imports onto the Node shim, and runs every scenario
 * with one VU for a few seconds: setup, iterations, teardown, thresholds, handleSummary.
 */

export const LOADTEST_DIR = resolve(import.meta.dirname, "..");
const REPO = resolve(LOADTEST_DIR, "..");
const K6_MODULES = ["k6", "k6/http", "k6/metrics", "k6/timers", "k6/websockets"];

type Fn = (data?: unknown) => unknown;
interface ScriptModule {
  options: {
    scenarios?: Record<string, { executor: string; exec?: string }>;
    thresholds?: Record<string, unknown>;
  };
  setup?: Fn;
  teardown?: Fn;
  handleSummary?: Fn;
  [exec: string]: unknown;
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
  value: number | undefined;
  metricType: string | undefined;
}

export interface SmokeResult {
  scenarios: string[];
  iterations: number;
  checks: Array<{ name: string; passes: number; fails: number }>;
  thresholds: ThresholdResult[];
  errors: string[];
  summaryFiles: Record<string, string>;
  stdout: string;
  metrics: Record<string, { type: string; count: number; values: Record<string, number> }>;
}

/** Transpiled copies of lib/ and scenarios/ under .tmp (inside the repo so node_modules resolves). */
function build(): string {
  const root = join(REPO, ".tmp");
  mkdirSync(root, { recursive: true });
  const out = mkdtempSync(join(root, "k6-smoke-"));
  const facadeDir = join(out, "k6");
  mkdirSync(facadeDir);
  const facade: Record<string, string> = {};
  for (const m of K6_MODULES) {
    const file = join(facadeDir, `${m.replace("/", "_")}.mjs`);
    facade[m] = pathToFileURL(file).href;
  }
  for (const dir of ["lib", "scenarios"]) {
    mkdirSync(join(out, dir));
    for (const f of readdirSync(join(LOADTEST_DIR, dir)).filter((f) => f.endsWith(".ts"))) {
      const src = readFileSync(join(LOADTEST_DIR, dir, f), "utf8");
      const js = ts.transpileModule(src, {
        compilerOptions: {
          target: ts.ScriptTarget.ES2020,
          module: ts.ModuleKind.ESNext,
          verbatimModuleSyntax: true,
          allowImportingTsExtensions: true,
        },
        fileName: f,
      }).outputText;
      const rewritten = js
        .replace(/from\s+"(k6(?:\/[a-z]+)?)"/g, (_m, spec: string) => {
          const url = facade[spec];
          if (!url) throw new Error(`${dir}/${f} imports ${spec}, which the smoke shim does not provide`);
          return `from "${url}"`;
        })
        .replace(/from\s+"(\.{1,2}\/[^"]+)\.ts"/g, 'from "$1.mjs"');
      writeFileSync(join(out, dir, f.replace(/\.ts$/, ".mjs")), rewritten);
    }
  }
  return out;
}

function writeFacades(out: string, modules: Record<string, Record<string, unknown>>) {
  for (const [name, mod] of Object.entries(modules)) {
    const exports = Object.keys(mod)
      .filter((k) => k !== "default")
      .map((k) => `export const ${k} = m.${k};`)
      .join("\n");
    const dflt = "default" in mod ? "export default m.default;" : "";
    writeFileSync(
      join(out, "k6", `${name.replace("/", "_")}.mjs`),
      `const m = globalThis.__zephyrK6Modules[${JSON.stringify(name)}];\n${exports}\n${dflt}\n`,
    );
  }
}

const G = globalThis as unknown as Record<string, unknown>;

export async function runSmoke(
  scenario: string,
  opts: { env: Record<string, string>; maxSeconds?: number; iterationTimeoutMs?: number },
): Promise<SmokeResult> {
  const out = build();
  const runtime = createK6Runtime();
  G.__zephyrK6Modules = runtime.modules;
  G.__ENV = { PROFILE: "smoke", SUMMARY_DIR: out, ...opts.env };
  G.__VU = 0;
  G.__ITER = 0;
  const store = runtime.store;
  let iterations = 0;
  try {
    writeFacades(out, runtime.modules);
    const mod = (await import(pathToFileURL(join(out, "scenarios", `${scenario}.mjs`)).href)) as ScriptModule;
    const options = mod.options;
    const scenarios = options.scenarios ?? { default: { executor: "per-vu-iterations", iterations: 1 } };
    const data = mod.setup ? await mod.setup() : undefined;
    await settle(runtime.loop, opts.iterationTimeoutMs, store, "setup");
    G.__VU = 1;
    for (const [name, sc] of Object.entries(scenarios)) {
      const fn = mod[sc.exec ?? "default"];
      if (typeof fn !== "function") throw new Error(`scenario ${name}: exec ${sc.exec} is not exported`);
      const iterationBased = sc.executor === "per-vu-iterations" || sc.executor === "shared-iterations";
      const deadline = Date.now() + (opts.maxSeconds ?? 5) * 1000;
      let i = 0;
      do {
        G.__ITER = i++;
        try {
          await fn(data);
        } catch (e) {
          store.errors.push(`${name} iteration: ${(e as Error).stack ?? e}`);
        }
        await settle(runtime.loop, opts.iterationTimeoutMs, store, `${name} iteration ${i}`);
        store.add("iterations", "counter", 1);
        iterations++;
      } while (!iterationBased && Date.now() < deadline);
    }
    G.__VU = 0;
    if (mod.teardown) await mod.teardown(data);
    await settle(runtime.loop, opts.iterationTimeoutMs, store, "teardown");

    const thresholds = evaluateThresholds(options.thresholds ?? {}, store);
    const summaryData = summaryOf(store, thresholds, options);
    const files: Record<string, string> = {};
    let stdout = "";
    if (typeof mod.handleSummary === "function") {
      const produced = (await mod.handleSummary(summaryData)) as Record<string, string>;
      for (const [path, content] of Object.entries(produced)) {
        if (path === "stdout") stdout += content;
        else if (path !== "stderr") {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, content);
          files[basename(path)] = content;
        }
      }
    }
    return {
      scenarios: Object.keys(scenarios),
      iterations,
      checks: [...store.checks].map(([n, c]) => ({ name: n, ...c })),
      thresholds,
      errors: store.errors,
      summaryFiles: files,
      stdout,
      metrics: Object.fromEntries(
        Object.entries(summaryData.metrics).map(([k, v]) => [
          k,
          { type: v.type, count: v.count, values: v.values },
        ]),
      ),
    };
  } finally {
    await runtime.dispose();
    rmSync(out, { recursive: true, force: true });
  }
}

async function settle(
  loop: { idle(): Promise<void>; pending: number },
  timeoutMs = 60_000,
  store: MetricStore,
  what: string,
) {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(true), timeoutMs);
  });
  const done = await Promise.race([loop.idle().then(() => false), timedOut]);
  clearTimeout(timer);
  if (done)
    store.errors.push(`${what}: event loop still busy after ${timeoutMs} ms (${loop.pending} handles)`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (idx - lo);
}

function aggregate(type: string, values: number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  switch (type) {
    case "trend":
      return {
        avg: values.length ? sum / values.length : Number.NaN,
        min: sorted[0] ?? Number.NaN,
        med: percentile(sorted, 50),
        max: sorted.at(-1) ?? Number.NaN,
        "p(90)": percentile(sorted, 90),
        "p(95)": percentile(sorted, 95),
        "p(99)": percentile(sorted, 99),
      };
    case "counter":
      return { count: sum, rate: sum };
    case "rate":
      return {
        rate: values.length ? sum / values.length : Number.NaN,
        passes: sum,
        fails: values.length - sum,
      };
    default:
      return {
        value: values.at(-1) ?? Number.NaN,
        min: sorted[0] ?? Number.NaN,
        max: sorted.at(-1) ?? Number.NaN,
      };
  }
}

const EXPR =
  /^\s*(avg|min|max|med|count|rate|value|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

export function evaluateThresholds(
  thresholds: Record<string, unknown>,
  store: MetricStore,
): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const [key, list] of Object.entries(thresholds)) {
    const metric = key.replace(/\{.*\}$/, "");
    for (const t of list as Array<string | { threshold: string }>) {
      const expression = typeof t === "string" ? t : t.threshold;
      const m = EXPR.exec(expression);
      const stored = store.metrics.get(metric);
      if (!m) throw new Error(`threshold ${key}: cannot parse "${expression}"`);
      if (!stored) {
        results.push({ metric, expression, ok: false, value: undefined, metricType: undefined });
        continue;
      }
      const agg = aggregate(stored.type, stored.values);
      const stat = m[2] ? `p(${m[2]})` : (m[1] as string);
      const value = m[2]
        ? percentile(
            [...stored.values].sort((a, b) => a - b),
            Number(m[2]),
          )
        : agg[stat];
      const target = Number(m[4]);
      const ok =
        value !== undefined &&
        !Number.isNaN(value) &&
        {
          "<": value < target,
          "<=": value <= target,
          ">": value > target,
          ">=": value >= target,
          "==": value === target,
          "===": value === target,
          "!=": value !== target,
        }[m[3] as string] === true;
      results.push({ metric, expression, ok, value, metricType: stored.type });
    }
  }
  return results;
}

function summaryOf(store: MetricStore, thresholds: ThresholdResult[], options: unknown) {
  const metrics: Record<
    string,
    {
      type: string;
      contains: string;
      count: number;
      values: Record<string, number>;
      thresholds?: Record<string, { ok: boolean }>;
    }
  > = {};
  for (const [name, m] of store.metrics) {
    const th = thresholds.filter((t) => t.metric === name);
    metrics[name] = {
      type: m.type,
      contains: m.type === "trend" ? "time" : "default",
      count: m.values.length,
      values: aggregate(m.type, m.values),
      ...(th.length ? { thresholds: Object.fromEntries(th.map((t) => [t.expression, { ok: t.ok }])) } : {}),
    };
  }
  return {
    metrics,
    options,
    state: { isStdOutTTY: false, testRunDurationMs: 0 },
    root_group: { name: "", checks: [...store.checks] },
  };
}
