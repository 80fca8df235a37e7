import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../logging/index.js";
import { createMetrics } from "../metrics/index.js";
import { createHttpApp } from "./app.js";

function appWithFailingRoute() {
  const logs: string[] = [];
  const logger = createLogger({
    destination: new Writable({
      write(c, _e, cb) {
        logs.push(String(c));
        cb();
      },
    }),
  });
  const metrics = createMetrics({
    version: "test",
    poolStats: () => ({ total: 0, idle: 0, waiting: 0, max: 0 }),
  });
  const app = createHttpApp({
    logger,
    metrics,
    corsOrigins: ["https://slides.example"],
    bodyLimitBytes: 1024,
  });
  app.get("/api/boom", () => {
    throw new Error("connect ECONNREFUSED 10.0.0.7:5432 at Pool.query (/app/node_modules/pg/lib/pool.js:45)");
  });
  return { app, logs, metrics };
}

describe("error mapping", () => {
  it("answers an unexpected error with INTERNAL and no internals, and logs the stack", async () => {
    const { app, logs } = appWithFailingRoute();
    const res = await app.request("/api/boom", { headers: { authorization: "Bearer zph_secret_token" } });
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toEqual({ error: { code: "INTERNAL", message: "internal error" } });
    const log = logs.join("");
    expect(log).toMatch(/"msg":"unhandled error"/);
    expect(log).toMatch(/"stack":/);
    expect(log).not.toContain("zph_secret_token");
  });
});

describe("CORS allow-list", () => {
  it("allows a listed origin and ignores others", async () => {
    const { app } = appWithFailingRoute();
    app.get("/api/ping", (c) => c.json({ ok: true }));
    const allowed = await app.request("/api/ping", { headers: { origin: "https://slides.example" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://slides.example");
    const denied = await app.request("/api/ping", { headers: { origin: "https://evil.example" } });
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await app.request("/api/ping", {
      method: "OPTIONS",
      headers: {
        origin: "https://slides.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });
});
