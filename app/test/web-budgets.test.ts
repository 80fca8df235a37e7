/**
 * Size budgets of the pages, read from the build output (`npm run build`, which the test run starts with): what a
 * phone on a slow network downloads before it can answer. A page's first load is the HTML shell, the entry chunk,
 * the page's own chunk and every chunk they import (Vite's manifest lists them), each counted as the gzip copy
 * the service sends.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WEB_ROOT } from "../src/transports/http/web-routes.js";

interface Chunk {
  file: string;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
  assets?: string[];
}
const manifest: Record<string, Chunk> = JSON.parse(
  readFileSync(join(WEB_ROOT, ".vite/manifest.json"), "utf8"),
);

const KB = 1024;
const BUDGETS = {
  audienceJs: 60 * KB,
  audienceFirstLoad: 150 * KB,
  presenterJs: 150 * KB,
};

const gzipped = (file: string) => {
  const gz = join(WEB_ROOT, `${file}.gz`);
  expect(existsSync(gz), `${file} has a gzip copy`).toBe(true);
  return statSync(gz).size;
};

/** The chunks a page loads before it shows: the entry, the page, and what they import (not lazy imports). */
function firstLoad(page: string): { js: string[]; other: string[] } {
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const k of manifest[key]?.imports ?? []) visit(k);
  };
  visit("index.html");
  visit(`src/pages/${page}.tsx`);
  const chunks = [...seen].map((k) => manifest[k] as Chunk);
  return {
    js: chunks.map((c) => c.file),
    other: ["index.html", ...new Set(chunks.flatMap((c) => [...(c.css ?? []), ...(c.assets ?? [])]))],
  };
}

const sum = (files: string[]) => files.reduce((n, f) => n + gzipped(f), 0);

describe("page size budgets (gzip, from the build output)", () => {
  it("every page is its own chunk, loaded from the entry", () => {
    expect(manifest["index.html"]?.dynamicImports?.sort()).toEqual(
      ["audience", "create", "join", "presenter"].map((p) => `src/pages/${p}.tsx`),
    );
  });

  it(`audience page: JavaScript ≤ ${BUDGETS.audienceJs / KB} KB including socket.io-client, first load ≤ ${BUDGETS.audienceFirstLoad / KB} KB`, () => {
    const { js, other } = firstLoad("audience");
    const code = js.map((f) => readFileSync(join(WEB_ROOT, f), "utf8")).join("\n");
    // The Engine.IO protocol version marker: socket.io-client is among the counted chunks.
    expect(code).toMatch(/EIO/);
    const jsBytes = sum(js);
    const total = jsBytes + sum(other);
    console.log(
      `audience: ${(jsBytes / KB).toFixed(1)} KB JS, ${(total / KB).toFixed(1)} KB first load (gzip)`,
    );
    expect(jsBytes).toBeLessThanOrEqual(BUDGETS.audienceJs);
    expect(total).toBeLessThanOrEqual(BUDGETS.audienceFirstLoad);
  });

  it(`presenter page: JavaScript ≤ ${BUDGETS.presenterJs / KB} KB including the QR code library`, () => {
    const { js } = firstLoad("presenter");
    const jsBytes = sum(js);
    console.log(`presenter: ${(jsBytes / KB).toFixed(1)} KB JS (gzip)`);
    expect(jsBytes).toBeLessThanOrEqual(BUDGETS.presenterJs);
    // The QR library is the presenter's alone: the audience never downloads it.
    const audience = firstLoad("audience").js;
    expect(js.filter((f) => !audience.includes(f)).length).toBeGreaterThan(0);
  });
});
