import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../logging/index.js";
import { createMetrics } from "../../metrics/index.js";
import { createHttpApp, SLOW_REQUEST_SECONDS } from "./app.js";

function appWithFailingRoute(accessLog?: "all" | "errors" | "off") {
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
    accessLog,
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

describe("access log", () => {
  const requestLines = (logs: string[]) =>
    logs
      .join("")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; status?: string; route?: string })
      .filter((e) => e.msg === "request");

  it.each([
    ["all", ["200", "404", "500"]],
    ["errors", ["404", "500"]],
    ["off", []],
  ] as const)("with ACCESS_LOG=%s logs requests answered %j", async (mode, expected) => {
    const { app, logs } = appWithFailingRoute(mode);
    app.get("/api/ping", (c) => c.json({ ok: true }));
    expect((await app.request("/api/ping")).status).toBe(200);
    expect((await app.request("/api/nowhere")).status).toBe(404);
    expect((await app.request("/api/boom")).status).toBe(500);
    expect(requestLines(logs).map((e) => e.status)).toEqual(expected);
  });

  it("logs a slow success when only errors are logged", async () => {
    const { app, logs } = appWithFailingRoute("errors");
    app.get("/api/slow", async (c) => {
      await new Promise((r) => setTimeout(r, SLOW_REQUEST_SECONDS * 1000 + 50));
      return c.json({ ok: true });
    });
    app.get("/api/fast", (c) => c.json({ ok: true }));
    await app.request("/api/fast");
    await app.request("/api/slow");
    expect(requestLines(logs).map((e) => e.route)).toEqual(["/api/slow"]);
  });
});

describe("request id and security headers without a Node response (app.request)", () => {
  it("keeps a valid caller id, replaces an invalid one, and sets the security headers", async () => {
    const { app } = appWithFailingRoute();
    app.get("/api/ping", (c) => c.json({ ok: true }));
    const kept = await app.request("/api/ping", { headers: { "x-request-id": "abc-123=" } });
    expect(kept.headers.get("x-request-id")).toBe("abc-123=");
    expect(kept.headers.get("x-content-type-options")).toBe("nosniff");
    expect(kept.headers.get("strict-transport-security")).toMatch(/max-age=/);
    for (const bad of ["has space", "x".repeat(65), "semi;colon"]) {
      const replaced = await app.request("/api/ping", { headers: { "x-request-id": bad } });
      expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
