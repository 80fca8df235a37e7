import { configFields } from "./index.js";

/** The README's configuration table, generated from the schema so the two cannot drift. */
export function configMarkdownTable(): string {
  const rows = Object.entries(configFields.shape).map(([name, field]) => {
    const def = (field as { def?: { defaultValue?: unknown } }).def?.defaultValue;
    const shown = def === undefined ? "" : Array.isArray(def) ? def.join(",") : String(def);
    const isDefaultHostname = name === "INSTANCE_ID";
    return `| \`${name}\` | ${isDefaultHostname ? "hostname" : shown === "" ? "—" : `\`${shown}\``} | ${field.description ?? ""} |`;
  });
  return ["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  process.stdout.write(`${configMarkdownTable()}\n`);
}
