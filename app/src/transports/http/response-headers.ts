import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MiddlewareHandler } from "hono";

/**
 * The headers OWASP's REST Security Cheat Sheet asks of every API response. hono/secure-headers adds seven
 * more that only matter for HTML documents (X-XSS-Protection, X-Download-Options, …); every response would
 * carry them, and on the hot GET /results their bytes cost more than the route itself.
 */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  // Results change with every vote: a cached copy is a wrong one.
  ["Cache-Control", "no-store"],
  ["Content-Security-Policy", "frame-ancestors 'none'"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
];

const REQUEST_ID = /^[\w\-=]+$/;

type NodeBindings = { incoming?: IncomingMessage; outgoing?: ServerResponse };

/**
 * Request id (a caller's valid `X-Request-Id` is kept, otherwise a new UUID) and the security headers.
 *
 * On @hono/node-server both go straight onto Node's ServerResponse, which merges them into writeHead. The
 * WHATWG route costs far more: reading one request header builds a Headers object from every header, and
 * each `c.header()` runs undici's per-call validation; together they were the largest per-request cost of
 * GET /results after the access log. Elsewhere (app.request() in tests) the Hono way gives the same result.
 */
export function responseHeaders({
  headers = SECURITY_HEADERS,
  requestIdMaxLength = 64,
}: {
  headers?: ReadonlyArray<readonly [string, string]>;
  requestIdMaxLength?: number;
} = {}): MiddlewareHandler<{ Variables: { requestId: string } }> {
  const accept = (id: string | undefined) =>
    id !== undefined && id.length > 0 && id.length <= requestIdMaxLength && REQUEST_ID.test(id);

  return async (c, next) => {
    const node = c.env as NodeBindings | undefined;
    const outgoing = node?.outgoing;
    if (node?.incoming && outgoing && typeof outgoing.setHeader === "function") {
      const given = node.incoming.headers["x-request-id"];
      const requestId = typeof given === "string" && accept(given) ? given : randomUUID();
      c.set("requestId", requestId);
      for (const [name, value] of headers) outgoing.setHeader(name, value);
      outgoing.setHeader("X-Request-Id", requestId);
      await next();
      return;
    }
    const given = c.req.header("x-request-id");
    const requestId = accept(given) ? (given as string) : randomUUID();
    c.set("requestId", requestId);
    await next();
    for (const [name, value] of headers) c.res.headers.set(name, value);
    c.res.headers.set("X-Request-Id", requestId);
  };
}
