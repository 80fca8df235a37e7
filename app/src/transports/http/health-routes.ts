import { Hono } from "hono";
import type { AppEnv } from "./app.js";

export interface HealthProbe {
  name: "database" | "redis";
  check(): Promise<void>;
}

export interface HealthOptions {
  instanceId: string;
  version: string;
  probes: HealthProbe[];
  isDraining: () => boolean;
  connections: () => number;
  usingRedisAdapter: () => boolean;
  probeTimeoutMs?: number;
}

type ProbeResult = { status: "up" | "down"; latencyMs: number; error?: string };

/**
 * live: the process and its event loop answer (never touches Postgres/Redis, so a database outage does not
 * make Kubernetes restart every pod). ready: dependencies answer and we are not draining.
 */
export function healthRoutes({
  instanceId,
  version,
  probes,
  isDraining,
  connections,
  usingRedisAdapter,
  probeTimeoutMs = 2000,
}: HealthOptions): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const started = Date.now();

  async function runProbes(): Promise<Record<string, ProbeResult>> {
    const entries = await Promise.all(
      probes.map(async (p): Promise<[string, ProbeResult]> => {
        const t = performance.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            p.check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error("timeout")), probeTimeoutMs);
            }),
          ]);
          return [p.name, { status: "up", latencyMs: Math.round(performance.now() - t) }];
        } catch (err) {
          // The reason is for operators; it names no host or credential, only the failure kind.
          const reason = err instanceof Error && err.message === "timeout" ? "timeout" : "unreachable";
          return [p.name, { status: "down", latencyMs: Math.round(performance.now() - t), error: reason }];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return Object.fromEntries(entries);
  }

  r.get("/health/live", (c) => c.json({ status: "ok" }));

  r.get("/health/ready", async (c) => {
    if (isDraining()) return c.json({ status: "draining" }, 503);
    const checks = await runProbes();
    const ok = Object.values(checks).every((p) => p.status === "up");
    return c.json({ status: ok ? "ready" : "unavailable", checks }, ok ? 200 : 503);
  });

  r.get("/health", async (c) => {
    const checks = await runProbes();
    const ok = Object.values(checks).every((p) => p.status === "up");
    return c.json({
      status: isDraining() ? "draining" : ok ? "ok" : "degraded",
      instanceId,
      version,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      database: checks.database ?? { status: "not-configured" },
      redis: checks.redis ?? { status: "not-configured" },
      usingRedisAdapter: usingRedisAdapter(),
      connections: connections(),
    });
  });

  return r;
}
