import { readFileSync } from "node:fs";
import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
import type { Redis } from "ioredis";
import type { Config } from "./config/index.js";
import { migrate } from "./db/migrations/index.js";
import { createPgliteDatabase } from "./db/pglite.js";
import { createPostgresDatabase } from "./db/postgres.js";
import type { Database } from "./db/types.js";
import { healthRoutes } from "./health/routes.js";
import { createHttpApp } from "./http/app.js";
import { createLifecycle, type Lifecycle } from "./lifecycle/shutdown.js";
import type { Logger } from "./logging/index.js";
import { createMetrics, type Metrics } from "./metrics/index.js";
import { createResultsCache } from "./polls/results-cache.js";
import { pollRoutes } from "./polls/routes.js";
import { createPollService, type PollService } from "./polls/service.js";
import { createMemoryRateLimiter, type RateLimiter } from "./ratelimit/index.js";
import { createRedisRateLimiter } from "./ratelimit/redis.js";
import { createRealtime, type Realtime } from "./realtime/server.js";
import { createRedisClient } from "./redis/client.js";
import { createMemorySessionStore, createRedisSessionStore, type SessionStore } from "./sessions/index.js";
import { createVoteWriter } from "./votes/writer.js";

export const VERSION = readVersion();

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export interface Zephyr {
  config: Config;
  db: Database;
  polls: PollService;
  metrics: Metrics;
  lifecycle: Lifecycle;
  /** Present once listening. */
  realtime(): Realtime;
  address(): AddressInfo;
  listen(): Promise<AddressInfo>;
  /** Graceful stop (what SIGTERM does); resolves when everything is closed. */
  shutdown(reason?: string): Promise<void>;
}

export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  const target = config.database;
  if (target.kind === "pglite") {
    logger.info({ dataDir: target.dataDir ?? "(memory)" }, "using embedded PGlite database");
    return createPgliteDatabase({ dataDir: target.dataDir });
  }
  const db = createPostgresDatabase({
    ...target,
    poolSize: config.dbPoolSize,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    logger,
  });
  // Pods often start before the database is reachable (or while it fails over): retry with capped backoff.
  const deadline = Date.now() + config.dbStartupRetryMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.ping(config.dbConnectTimeoutMs);
      logger.info({ attempt }, "connected to PostgreSQL");
      return db;
    } catch (err) {
      if (Date.now() >= deadline) {
        await db.close().catch(() => undefined);
        throw new Error(`PostgreSQL not reachable after ${attempt} attempts: ${(err as Error).message}`);
      }
      const wait = Math.min(200 * 2 ** attempt, 5000);
      logger.warn(
        { attempt, retryInMs: wait, err: { message: (err as Error).message } },
        "PostgreSQL not reachable yet",
      );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

interface RedisPieces {
  state: Redis;
  pub: Redis;
  sub: Redis;
}

function connectRedis(config: Config, logger: Logger, metrics: Metrics): RedisPieces | undefined {
  if (!config.redis) return undefined;
  const target = config.redis;
  const make = (name: string) =>
    createRedisClient(target, { name, logger, onError: () => metrics.redisErrors.inc({ client: name }) });
  const pieces = { state: make("state"), pub: make("adapter-pub"), sub: make("adapter-sub") };
  const refresh = () => metrics.redisUp.set(Object.values(pieces).every((c) => c.status === "ready") ? 1 : 0);
  for (const c of Object.values(pieces))
    for (const ev of ["ready", "close", "end", "reconnecting"]) c.on(ev, refresh);
  refresh();
  return pieces;
}

/** The composition root: builds every concrete piece from the config and wires them together. */
export async function createZephyr(config: Config, logger: Logger): Promise<Zephyr> {
  const db = await openDatabase(config, logger);
  if (config.migrateOnStart) await migrate(db, logger);

  const metrics = createMetrics({ version: VERSION, poolStats: () => db.poolStats() });
  const redis = connectRedis(config, logger, metrics);
  const sessions: SessionStore = redis
    ? createRedisSessionStore(redis.state, {
        ttlSeconds: config.sessionTtlSeconds,
        prefix: `${config.redis?.keyPrefix}:session:`,
      })
    : createMemorySessionStore({ ttlSeconds: config.sessionTtlSeconds });
  const rateLimiter: RateLimiter = redis
    ? createRedisRateLimiter(redis.state, {
        prefix: `${config.redis?.keyPrefix}:rl:`,
        onFallback: () => metrics.redisErrors.inc({ client: "ratelimit" }),
      })
    : createMemoryRateLimiter();

  // The real-time layer needs the listening http.Server, the writer needs the real-time layer: late-bound.
  let realtime: Realtime | undefined;
  const resultsCache = createResultsCache({ ttlMs: config.resultsCacheMs });
  const writer = createVoteWriter({
    db,
    logger,
    maxBatch: config.voteBatch.max,
    windowMs: config.voteBatch.windowMs,
    onCommitted: (snapshot) => {
      resultsCache.offer(snapshot);
      realtime?.resultsCommitted(snapshot);
    },
    onBatch: (size) => metrics.voteBatchSize.observe(size),
  });
  const polls = createPollService({
    db,
    writer,
    resultsCache,
    lookupCacheMs: config.pollCacheMs,
    events: { statusChanged: (e) => realtime?.statusChanged(e) },
  });

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  const lifecycle = createLifecycle({
    logger,
    delayMs: config.shutdownDelayMs,
    steps: () => [
      { name: "sockets", run: async () => realtime?.drain(config.drainWindowMs) },
      {
        name: "http",
        run: () =>
          new Promise<void>((resolve) => {
            if (!server) return resolve();
            // close() stops accepting and waits for open connections. Keep-alive clients would keep theirs busy
            // forever, so every response from now on closes its connection, and idle ones are closed at once.
            const s = server;
            s.on("request", (_req, res: ServerResponse) => {
              res.shouldKeepAlive = false;
            });
            s.close(() => resolve());
            s.closeIdleConnections();
          }),
      },
      { name: "votes", run: () => writer.flush() },
      { name: "realtime", run: async () => realtime?.close() },
      {
        name: "metrics",
        run: () =>
          new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve())),
      },
      {
        name: "redis",
        run: async () => {
          if (!redis) return;
          await Promise.all(Object.values(redis).map((c) => c.quit().catch(() => c.disconnect())));
        },
      },
      { name: "database", run: () => db.close() },
    ],
  });

  const app = createHttpApp({
    logger,
    metrics,
    corsOrigins: config.corsOrigins,
    bodyLimitBytes: config.bodyLimitBytes,
    accessLog: config.accessLog,
  });
  app.route(
    "/api",
    healthRoutes({
      instanceId: config.instanceId,
      version: VERSION,
      probes: [
        { name: "database", check: () => db.ping() },
        ...(redis ? [{ name: "redis" as const, check: async () => void (await redis.state.ping()) }] : []),
      ],
      isDraining: () => lifecycle.draining,
      connections: () => realtime?.connections() ?? 0,
      usingRedisAdapter: () => realtime?.usingRedisAdapter ?? false,
    }),
  );
  app.route(
    "/api",
    pollRoutes({
      polls,
      rateLimiter,
      rateLimit: config.rateLimit,
      trustProxyHops: config.trustProxyHops,
      metrics,
    }),
  );
  const metricsHandler = async (c: Context) => {
    c.header("Content-Type", metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  };
  app.get("/metrics", metricsHandler);
  // A separate metrics port keeps scrapes off the public listener (NetworkPolicy can then allow only Prometheus).
  const metricsApp = new Hono().get("/metrics", metricsHandler);

  return {
    config,
    db,
    polls,
    metrics,
    lifecycle,
    realtime() {
      if (!realtime) throw new Error("not listening");
      return realtime;
    },
    address() {
      const a = server?.address();
      if (!a || typeof a === "string") throw new Error("not listening");
      return a;
    },
    async listen() {
      if (config.metricsPort > 0) {
        await new Promise<void>((resolve, reject) => {
          metricsServer = serve(
            { fetch: metricsApp.fetch, port: config.metricsPort, hostname: config.host },
            () => resolve(),
          ) as Server;
          metricsServer.once("error", reject);
        });
      }
      const info = await new Promise<AddressInfo>((resolve, reject) => {
        const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (i) =>
          resolve(i),
        ) as Server;
        server = s;
        s.once("error", reject);
        // Node's defaults (5 s keep-alive) are shorter than common load-balancer idle timeouts; a LB reusing a
        // connection the server just closed produces sporadic 502s.
        s.keepAliveTimeout = 65_000;
        s.headersTimeout = 66_000;
      });
      realtime = createRealtime({
        httpServer: server as Server,
        config,
        polls,
        sessions,
        rateLimiter,
        metrics,
        logger,
        isDraining: () => lifecycle.draining,
        adapterClients: redis ? { pub: redis.pub, sub: redis.sub } : undefined,
        onRemoteSnapshot: (snapshot) => resultsCache.offer(snapshot),
      });
      return info;
    },
    shutdown(reason = "shutdown") {
      return lifecycle.shutdown(reason);
    },
  };
}
