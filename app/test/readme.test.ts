import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../test/paths.js";
import { configMarkdownTable } from "../src/config/docs.js";
import { ERROR_STATUS } from "../src/errors/index.js";

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
