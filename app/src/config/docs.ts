import { readFileSync, writeFileSync } from "node:fs";
import { configFields } from "./index.js";

/** The README's configuration table, generated from the schema so the two cannot drift. */
export function configMarkdownTable(): string {
  const rows = Object.entries(configFields.shape).map(([name, field]) => {
    const def = (field as { def?: { defaultValue?: unknown } }).def?.defaultValue;
    const shown = def === undefined ? "" : Array.isArray(def) ? def.join(",") : String(def);
    const value = name === "INSTANCE_ID" ? "hostname" : shown === "" ? "—" : `\`${shown}\``;
    return `| \`${name}\` | ${value} | ${field.description ?? ""} |`;
  });
  return ["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

export const CONFIG_TABLE_PATTERN = /(<!-- config-table:start -->\n)[\s\S]*?(\n<!-- config-table:end -->)/;

// `npm run docs` rewrites the table in README.md.
if (process.argv[1]?.endsWith("docs.ts") && process.argv[2] === "--write") {
  const file = process.argv[3] ?? "README.md";
  const text = readFileSync(file, "utf8");
  writeFileSync(file, text.replace(CONFIG_TABLE_PATTERN, `$1${configMarkdownTable()}$2`));
}
