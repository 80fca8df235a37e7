import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configMarkdownTable } from "../src/config/docs.js";
import { ERROR_STATUS } from "../src/domain/errors.js";
import { REPO_ROOT } from "./support/zephyr.js";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

describe("README stays true to the code", () => {
  it("has the configuration table generated from the schema", () => {
    const m = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    expect(m, "config-table markers").toBeTruthy();
    expect(m?.[1]).toBe(configMarkdownTable());
  });

  it("documents every client error code", () => {
    for (const code of Object.keys(ERROR_STATUS)) expect(readme).toContain(`\`${code}\``);
  });
});
