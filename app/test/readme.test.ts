import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { brokenLinks, docFiles, repoPath } from "../../docs/markdown.js";

// The README is the front door: what Zephyr is, the vote path, the two commands, a walkthrough and links. The
// manual lives in docs/, where docs/docs.test.ts keeps the generated tables and the links true.
const README = repoPath("README.md");
const readme = readFileSync(README, "utf8");

describe("README is a front door", () => {
  it("stays short", () => {
    expect(readme.split("\n").length, "move detail into docs/").toBeLessThanOrEqual(200);
  });

  it("opens with the two commands and pictures the vote path", () => {
    expect(readme).toContain("make run");
    expect(readme).toContain("make test");
    expect(readme).toContain("```mermaid");
  });

  it("links only to files and headings that exist", () => {
    expect(brokenLinks(README)).toEqual([]);
  });

  it("links every page of docs/", () => {
    for (const page of docFiles().filter((f) => f.startsWith("docs/"))) {
      expect(readme, `README links ${page}`).toContain(`](${page})`);
    }
  });
});
