import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { routePath } from "hono/route";
import { AppError, toClientError } from "../../domain/errors.js";
import type { Logger } from "../../logging/index.js";
import type { Metrics } from "../../metrics/index.js";
import { responseHeaders } from "./response-headers.js";

export type AppEnv = {
  Variables: { requestId: string; unmatched?: boolean };
};

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  corsOrigins: string[];
  bodyLimitBytes: number;
  /** all: every request; errors: status >= 400 or slower than SLOW_REQUEST_SECONDS; off: none. */
  accessLog?: "all" | "errors" | "off";
  /** The web app's not-found page for a path it owns; undefined leaves the JSON error. */
  notFoundPage?: (c: Context<AppEnv>) => Promise<Response> | undefined;
}

/** A request this slow is logged even when only errors are. */
export const SLOW_REQUEST_SECONDS = 1;

/**
 * The Hono app with the cross-cutting middleware (ids, metrics, access log, headers, CORS, body limit, error
 * mapping); feature routes are mounted by the caller.
 */
export function createHttpApp({
  logger,
  metrics,
  corsOrigins,
  bodyLimitBytes,
  accessLog = "errors",
  notFoundPage,
}: HttpAppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // prom-client hashes the label object on every call; the (method, route, status) set is small and bounded.
  const series = new Map<string, { requests: { inc(): void }; duration: { observe(v: number): void } }>();
  const seriesOf = (labels: { method: string; route: string; status: string }) => {
    const key = `${labels.method} ${labels.status} ${labels.route}`;
    let s = series.get(key);
    if (!s) {
      s = { requests: metrics.httpRequests.labels(labels), duration: metrics.httpDuration.labels(labels) };
      series.set(key, s);
    }
    return s;
  };

  app.use("*", responseHeaders());
  app.use("*", async (c, next) => {
    const start = process.hrtime.bigint();
    await next();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    // Label with the route pattern, never the raw path, so the series count stays bounded.
    const route = c.get("unmatched") ? "unmatched" : routePath(c, -1) || "unmatched";
    const labels = { method: normalizeMethod(c.req.method), route, status: String(c.res.status) };
    const series = seriesOf(labels);
    series.requests.inc();
    series.duration.observe(seconds);
    const worthLogging =
      accessLog === "all" ||
      (accessLog === "errors" && (c.res.status >= 400 || seconds >= SLOW_REQUEST_SECONDS));
    if (worthLogging && route !== "/metrics" && !route.startsWith("/api/health")) {
      logger.info(
        { reqId: c.get("requestId"), ...labels, durationMs: Math.round(seconds * 1e4) / 10 },
        "request",
      );
    }
  });
  if (corsOrigins.length > 0) {
    app.use(
      "/api/*",
      cors({
        origin: corsOrigins.includes("*") ? "*" : corsOrigins,
        allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
        allowHeaders: ["Content-Type", "Authorization", "X-Request-Id"],
        maxAge: 600,
      }),
    );
  }
  const tooLarge = (c: Context) =>
    c.json(
      { error: { code: "PAYLOAD_TOO_LARGE", message: `request body exceeds ${bodyLimitBytes} bytes` } },
      413,
    );
  const streamingLimit = bodyLimit({ maxSize: bodyLimitBytes, onError: tooLarge });
  // Hono's bodyLimit reads c.req.raw.body, and on @hono/node-server that builds a full WHATWG Request (with an
  // AbortController) per request: the largest per-request cost of GET /results when it ran for every method.
  // So it runs only where a body may come, and only for chunked bodies: Node's parser delivers exactly
  // Content-Length bytes, so a declared length is checked without reading.
  app.on(["POST", "PUT", "PATCH", "DELETE"], "/api/*", async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(declared) > bodyLimitBytes) return tooLarge(c);
      return await next();
    }
    return await streamingLimit(c, next);
  });

  app.notFound((c) => {
    c.set("unmatched", true);
    const page = notFoundPage?.(c);
    if (page) return page;
    return c.json(
      { error: { code: "NOT_FOUND", message: `no route for ${c.req.method} ${c.req.path}` } },
      404,
    );
  });

  app.onError((err, c) => {
    const appErr = toClientError(err);
    if (appErr.code === "INTERNAL") {
      logger.error({ err, reqId: c.get("requestId") }, "unhandled error");
    } else if (appErr.code === "UNAVAILABLE") {
      logger.warn(
        { reqId: c.get("requestId"), cause: (appErr.cause as Error | undefined)?.message },
        appErr.message,
      );
    }
    if (appErr.details?.retryAfterMs)
      c.header("Retry-After", String(Math.ceil(appErr.details.retryAfterMs / 1000)));
    return c.json({ error: appErr.toBody() }, appErr.status as 400);
  });

  return app;
}

const KNOWN_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
const normalizeMethod = (m: string) => (KNOWN_METHODS.has(m) ? m : "OTHER");

/** Reads the body as JSON with a clear VALIDATION_FAILED for empty or malformed input. */
export async function readJson(c: { req: { text(): Promise<string> } }): Promise<unknown> {
  const raw = await c.req.text();
  if (raw.trim() === "") throw new AppError("VALIDATION_FAILED", "request body must be a JSON object");
  try {
    return JSON.parse(raw);
  } catch {
    throw new AppError("VALIDATION_FAILED", "request body is not valid JSON");
  }
}

/** Extracts `Authorization: Bearer <token>`; undefined when absent or not a bearer token. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
  return m?.[1];
}
