import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import { type Context, Hono } from "hono";
import type { AppEnv } from "./app.js";

/** Where `npm run build` puts the pages (app/web/vite.config.ts), from app/src or app/dist alike. */
export const WEB_ROOT = fileURLToPath(new URL("../../../dist/web/", import.meta.url));

/**
 * The pages' policy: scripts, styles, images and connections (the Socket.IO WebSocket included, which CSP Level 3
 * counts as 'self') from this origin only, nothing inline, never framed.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The page paths the app renders; every other path outside /api gets the app's not-found page. */
export const PAGE_PATHS = ["/", "/join", "/p/:roomCode", "/j/:roomCode"] as const;

const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The web app from the service's own port: content-hashed assets cached for a year, the HTML shell never cached
 * (a new release is picked up on the next load), gzip or brotli copies made at build time chosen by
 * Accept-Encoding (serveStatic of @hono/node-server). `notFoundPage` is the app's answer to a GET of any other path
 * outside /api and /metrics; it is the app's not-found handler's to call, so no catch-all route shadows the API
 * routes (their metrics label is the route that matched last).
 */
export function webRoutes({ root = WEB_ROOT }: { root?: string } = {}) {
  const routes = new Hono<AppEnv>();
  const built = existsSync(`${root}/index.html`);

  const assets = serveStatic<AppEnv>({
    root,
    precompressed: true,
    onFound: (_path, c) => {
      c.header("Cache-Control", IMMUTABLE);
    },
  });
  const shell = serveStatic<AppEnv>({
    root,
    precompressed: true,
    rewriteRequestPath: () => "/index.html",
    onFound: (_path, c) => {
      c.header("Cache-Control", "no-cache");
      c.header("Content-Security-Policy", PAGE_CSP);
    },
  });

  const page = async (c: Context<AppEnv>, status: 200 | 404): Promise<Response> => {
    if (!built) return c.text("The web app is not built here: run npm run build.", 404);
    const res = await shell(c, async () => undefined);
    if (!res) return c.text("not found", 404);
    return status === 200 ? res : new Response(res.body, { status, headers: res.headers });
  };

  routes.get("/assets/*", assets);
  for (const path of PAGE_PATHS) routes.get(path, (c) => page(c, 200));

  const notFoundPage = (c: Context<AppEnv>): Promise<Response> | undefined => {
    const { method, path } = c.req;
    if (method !== "GET" && method !== "HEAD") return undefined;
    if (path === "/api" || path.startsWith("/api/") || path === "/metrics") return undefined;
    return page(c, 404);
  };
  return { routes, notFoundPage };
}
