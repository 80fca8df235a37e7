/**
 * Writes every dashboard as Grafana JSON: `npx tsx dashboards/src/generate.ts [out-dir]` (default
 * dashboards/generated, which is committed; dashboards/test checks it is up to date).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { overview } from "./overview.js";
import { scaling } from "./scaling.js";

export const GENERATED_DIR = fileURLToPath(new URL("../generated", import.meta.url));

/** File name to dashboard JSON text, exactly as written. */
export function renderDashboards(): Map<string, string> {
  const out = new Map<string, string>();
  for (const builder of [overview(), scaling()]) {
    const dashboard = builder.build();
    // Stable ids keep panel links (?viewPanel=) and provisioning diffs steady; the SDK leaves them unset.
    (dashboard.panels ?? []).forEach((panel, i) => {
      panel.id = i + 1;
    });
    out.set(`${dashboard.uid}.json`, `${JSON.stringify(dashboard, null, 2)}\n`);
  }
  return out;
}

export function writeDashboards(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [name, text] of renderDashboards()) {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of writeDashboards(process.argv[2] ?? GENERATED_DIR)) console.log(`wrote ${f}`);
}
