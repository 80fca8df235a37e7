import { configFields } from "./index.js";

/**
 * The configuration table of docs/configuration.md, generated from the schema so the two cannot drift
 * (`npm run docs` writes it through docs/generate.ts; docs/docs.test.ts fails while it is stale).
 */
export function configMarkdownTable(): string {
  const rows = Object.entries(configFields.shape).map(([name, field]) => {
    const def = (field as { def?: { defaultValue?: unknown } }).def?.defaultValue;
    const shown = def === undefined ? "" : Array.isArray(def) ? def.join(",") : String(def);
    const value = name === "INSTANCE_ID" ? "hostname" : shown === "" ? "—" : `\`${shown}\``;
    return `| \`${name}\` | ${value} | ${field.description ?? ""} |`;
  });
  return ["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
