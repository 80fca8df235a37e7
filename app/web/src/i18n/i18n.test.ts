/**
 * The catalogues are complete and every visible string comes from them: the same keys in every language with the
 * same {placeholders}, every key the pages ask for exists, none is unused, and no page hard-codes text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { de } from "./de.js";
import { en } from "./en.js";

const SRC = fileURLToPath(new URL("..", import.meta.url));
const CATALOGUES = { de } as const;

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : /\.tsx?$/.test(e.name) && !e.name.endsWith(".test.ts") && !dir.endsWith("i18n")
        ? [join(dir, e.name)]
        : [],
  );
const code = sources(SRC).map((file) => ({ file: relative(SRC, file), text: readFileSync(file, "utf8") }));
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("message catalogues", () => {
  it.each(Object.entries(CATALOGUES))(
    "%s has exactly the English keys, each with its placeholders",
    (_, cat) => {
      expect(Object.keys(cat).sort()).toEqual(Object.keys(en).sort());
      for (const [key, message] of Object.entries(en)) {
        const translated = (cat as Record<string, string>)[key] as string;
        expect(translated.trim(), key).not.toBe("");
        expect(placeholders(translated), key).toEqual(placeholders(message));
      }
    },
  );

  const literal = [
    ...code.flatMap((c) => [...c.text.matchAll(/\bt\(\s*"([\w.]+)"/g)].map((m) => m[1] as string)),
  ];
  const prefixes = [
    ...code.flatMap((c) => [...c.text.matchAll(/\bt\(\s*`([\w.]+)\$\{/g)].map((m) => m[1] as string)),
  ];
  // errorMessage() builds `error.${code}` for the service's error codes.
  prefixes.push(...code.flatMap((c) => [...c.text.matchAll(/`(error\.)\$\{/g)].map((m) => m[1] as string)));

  it("every key the pages use exists, and every key is used", () => {
    expect(literal.length).toBeGreaterThan(50);
    expect(literal.filter((k) => !(k in en))).toEqual([]);
    for (const prefix of prefixes)
      expect(
        Object.keys(en).some((k) => k.startsWith(prefix)),
        prefix,
      ).toBe(true);
    const used = (k: string) => literal.includes(k) || prefixes.some((p) => k.startsWith(p));
    expect(Object.keys(en).filter((k) => !used(k))).toEqual([]);
  });

  it("no page hard-codes visible text or accessible names", () => {
    const jsx = code.filter(({ file }) => file.endsWith(".tsx"));
    const offenders = jsx.flatMap(({ file, text }) => [
      // Text between a tag's `>` and the next `<` on one line, with a letter in it (not an arrow, not code).
      ...[...text.matchAll(/(?<![=-])>([^<>{}\n();=:|&]*[A-Za-zÀ-ÿ][^<>{}\n();=:|&]*)</g)].map(
        (m) => `${file}: text "${m[1]?.trim()}"`,
      ),
      ...[...text.matchAll(/\b(aria-label|alt|title|placeholder)="([^"]*[A-Za-z][^"]*)"/g)].map(
        (m) => `${file}: ${m[1]}="${m[2]}"`,
      ),
    ]);
    expect(offenders).toEqual([]);
  });
});
