import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The design, checked on every import in app/src: use cases and domain code never reach a framework, a driver or
 * the transports; transports never reach storage; no module grows past what one reader holds in mind.
 */

const SRC = resolve(import.meta.dirname, "../src");
const DRIVERS = ["hono", "@hono/", "socket.io", "@socket.io/", "pg", "ioredis", "@electric-sql/pglite"];

interface Rule {
  name: string;
  /** Files (relative to app/src) the rule applies to. */
  applies: (file: string) => boolean;
  /** A package name or a path relative to app/src that such a file must not import. */
  forbids: (target: string) => boolean;
}

const isDriver = (t: string) => DRIVERS.some((d) => t === d || t.startsWith(d.endsWith("/") ? d : `${d}/`));
const under =
  (...dirs: string[]) =>
  (f: string) =>
    dirs.some((d) => f.startsWith(`${d}/`));

const RULES: Rule[] = [
  {
    name: "use cases and domain import no framework or driver",
    applies: under("usecases", "domain"),
    forbids: isDriver,
  },
  {
    name: "use cases and domain import no storage, transport or Redis module",
    applies: under("usecases", "domain"),
    forbids: under("storage", "transports", "redis", "ratelimit", "server.ts"),
  },
  {
    name: "domain imports nothing outside domain",
    applies: under("domain"),
    forbids: (t) =>
      !t.startsWith("domain/") && t.includes("/") && !t.startsWith("node:") && !t.startsWith("zod"),
  },
  {
    name: "transports import no storage",
    applies: under("transports"),
    forbids: (t) => under("storage")(t) || ["pg", "ioredis", "@electric-sql/pglite"].includes(t),
  },
];

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

/** Every import of a source text: packages by name, relative paths resolved against app/src. */
function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = (m[1] ?? m[2]) as string;
    found.push(
      spec.startsWith(".")
        ? relative(SRC, resolve(SRC, dirname(file), spec)).replace(/\.js$/, ".ts")
        : spec.replace(/^(@[^/]+\/[^/]+|[^@/][^/]*).*$/, "$1"),
    );
  }
  return found;
}

function violations(files: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of Object.entries(files))
    for (const target of importsOf(file, text))
      for (const rule of RULES)
        if (rule.applies(file) && rule.forbids(target)) out.push(`${file} imports ${target}: ${rule.name}`);
  return out;
}

function sources(dir = SRC): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(files, sources(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
      files[relative(SRC, path)] = readFileSync(path, "utf8");
  }
  return files;
}

describe("architecture", () => {
  const files = sources();

  it("reads the real tree", () => {
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining(["usecases/join-poll.ts", "transports/http/poll-routes.ts"]),
    );
  });

  it("has no forbidden import", () => {
    expect(violations(files)).toEqual([]);
  });

  it.each([
    ["usecases/x.ts", 'import { Hono } from "hono";'],
    ["usecases/x.ts", 'import type { Redis } from "ioredis";'],
    ["domain/x.ts", 'import pg from "pg";'],
    ["usecases/x.ts", 'import { createPollStore } from "../storage/poll-store.js";'],
    ["transports/http/x.ts", 'import { createPollStore } from "../../storage/poll-store.js";'],
    ["usecases/x.ts", 'const m = await import("@electric-sql/pglite");'],
    ["domain/x.ts", 'import { x } from "../usecases/ports.js";'],
  ])("catches a wrong import in %s: %s", (file, text) => {
    expect(violations({ [file]: text })).toHaveLength(1);
  });

  it("allows what the design allows", () => {
    expect(
      violations({
        "usecases/x.ts": 'import { z } from "zod";\nimport { AppError } from "../domain/errors.js";',
        "transports/http/x.ts":
          'import { Hono } from "hono";\nimport type { UseCases } from "../../usecases/index.js";',
        "storage/x.ts": 'import pg from "pg";',
      }),
    ).toEqual([]);
  });

  it("keeps every module under ~250 lines", () => {
    const long = Object.entries(files)
      .map(([file, text]) => [file, text.split("\n").length] as const)
      .filter(([, lines]) => lines > 260);
    expect(long).toEqual([]);
  });
});
