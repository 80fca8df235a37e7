// Helm can only read files inside the chart, so the rule files and the generated dashboards are copied into
// chart/files/. The copies are build output: edit alerts/ and dashboards/src/, then `npm run chart:sync`.
// `--check` exits 1 when a copy differs from its source (or is missing, or has no source any more), without
// writing; `--root <dir>` points both at another tree (the test proves --check can fail that way).
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const argv = process.argv.slice(2);
const check = argv.includes("--check");
const rootArg = argv.indexOf("--root");
const root = rootArg >= 0 ? resolve(argv[rootArg + 1]) : resolve(import.meta.dirname, "../..");

/** Source directory → copy directory, and which files of the source belong to the chart. */
const mappings = [
  { from: "alerts", to: "chart/files/alerts", match: (f) => f.endsWith(".rules.yml") },
  { from: "dashboards/generated", to: "chart/files/dashboards", match: (f) => f.endsWith(".json") },
];

const list = (dir, match) => (existsSync(dir) ? readdirSync(dir).filter(match).sort() : []);
const problems = [];
for (const { from, to, match } of mappings) {
  const src = join(root, from);
  const dst = join(root, to);
  const sources = list(src, match);
  if (sources.length === 0) problems.push(`${from}: no source files`);
  if (!check) mkdirSync(dst, { recursive: true });
  for (const f of sources) {
    const same = existsSync(join(dst, f)) && readFileSync(join(src, f)).equals(readFileSync(join(dst, f)));
    if (same) continue;
    if (check) problems.push(`${to}/${f} differs from ${from}/${f}`);
    else copyFileSync(join(src, f), join(dst, f));
  }
  // A dashboard deleted at the source must not live on as a ConfigMap.
  for (const f of list(dst, match).filter((f) => !sources.includes(f))) {
    if (check) problems.push(`${to}/${f} has no source in ${from}/`);
    else rmSync(join(dst, f));
  }
}
if (problems.length) {
  console.error(`${problems.join("\n")}\n${check ? "run `npm run chart:sync`" : ""}`);
  process.exit(1);
}
