/**
 * The web app served by the service on its own port (transports/http/web-routes.ts), over real HTTP from the
 * built output of `npm run build`: page paths get the HTML shell uncached with the pages' Content-Security-Policy,
 * hashed assets are cached for a year and sent pre-compressed by Accept-Encoding, unknown paths get the app's
 * not-found page while /api keeps answering JSON.
 */
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type RunningZephyr, startZephyr } from "../../test/zephyr.js";
import { PAGE_CSP, WEB_ROOT } from "../src/transports/http/web-routes.js";

/** A raw GET, so the body arrives exactly as sent (fetch would undo the content encoding). */
function get(url: string, headers: Record<string, string> = {}, method = "GET") {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }>((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("web app served by the service", () => {
  let z: RunningZephyr;
  const html = readFileSync(join(WEB_ROOT, "index.html"), "utf8");
  const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;

  beforeAll(async () => {
    z = await startZephyr({});
  });
  afterAll(() => z?.stop());

  it("builds a shell with no inline script or style, referencing hashed assets", () => {
    expect(script).toMatch(/^\/assets\/index-[\w-]{8,}\.js$/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son\w+=/);
  });

  it.each(["/", "/join", "/p/K7PX2M", "/j/k7px2m"])(
    "serves the page shell at %s, uncached, with the pages' CSP",
    async (path) => {
      const res = await get(z.url + path);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-security-policy"]).toBe(PAGE_CSP);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.body.toString("utf8")).toBe(html);
    },
  );

  it("has a policy without inline code or other origins", () => {
    expect(PAGE_CSP).toContain("default-src 'self'");
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
    expect(PAGE_CSP).not.toMatch(/unsafe|\*|https?:/);
  });

  it("sends hashed assets cached for a year, brotli or gzip as the client accepts", async () => {
    const plain = readFileSync(join(WEB_ROOT, script));
    const identity = await get(z.url + script);
    expect(identity.status).toBe(200);
    expect(identity.headers["content-type"]).toMatch(/javascript/);
    expect(identity.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(identity.body.equals(plain)).toBe(true);

    const br = await get(z.url + script, { "accept-encoding": "gzip, deflate, br" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.body).equals(plain)).toBe(true);

    const gz = await get(z.url + script, { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body).equals(plain)).toBe(true);

    const shell = await get(`${z.url}/`, { "accept-encoding": "br" });
    expect(shell.headers["content-encoding"]).toBe("br");
    expect(brotliDecompressSync(shell.body).toString("utf8")).toBe(html);
  });

  it("answers unknown paths with the app's not-found page, and /api with JSON errors as before", async () => {
    for (const path of ["/nope", "/p", "/assets/missing-abc.js", "/j/K7PX2M/extra"]) {
      const res = await get(z.url + path);
      expect(res.status, path).toBe(404);
      expect(res.headers["content-type"], path).toMatch(/^text\/html/);
      expect(res.headers["content-security-policy"]).toBe(PAGE_CSP);
      expect(res.body.toString("utf8")).toBe(html);
    }
    const apiMiss = await api(z.url, "/api/nope");
    expect(apiMiss.status).toBe(404);
    expect(apiMiss.body).toEqual({ error: { code: "NOT_FOUND", message: "no route for GET /api/nope" } });
    expect((await api(z.url, "/api/polls/ZZZZZZ")).body.error.code).toBe("POLL_NOT_FOUND");
    expect((await api(z.url, "/api")).status).toBe(404);
    expect((await get(`${z.url}/metrics`)).headers["content-type"]).toMatch(/^text\/plain/);
  });

  it("answers HEAD for pages", async () => {
    const res = await get(`${z.url}/j/K7PX2M`, {}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
  });
});
