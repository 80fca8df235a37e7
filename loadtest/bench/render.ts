import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderReport } from "./report.js";

/** Re-renders REPORT.md from report.json (e.g. after a wording fix) without re-running the benchmark. */
const dir = resolve(process.argv[2] ?? import.meta.dirname);
const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
writeFileSync(join(dir, "REPORT.md"), renderReport(report));
console.log(`rendered ${join(dir, "REPORT.md")}`);
