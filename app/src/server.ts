import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { createRebalancer } from "./balance/index.js";
import { type Config, usesRedis } from "./config/index.js";
import { createLifecycle, type Lifecycle } from "./lifecycle/shutdown.js";
import type { Logger } from "./logging/index.js";
import { createMetrics, type Metrics, useCaseObserver } from "./metrics/index.js";
import { createParticipantWriter } from "./participants/writer.js";
import { createMemoryPresenceStore, createPresence } from "./presence/index.js";
import { createLimits } from "./ratelimit/index.js";
import { redisBackplane } from "./redis/backplane.js";
import { createResults } from "./results/index.js";
import { createLocalRelay } from "./results/relay.js";
import { createRetention, type Retention } from "./retention/index.js";
import type { Database } from "./storage/database.js";
import { exportRows } from "./storage/export-store.js";
import { createHostStore } from "./storage/host-store.js";
import { migrate } from "./storage/migrations/index.js";
import { openDatabase } from "./storage/open.js";
import { createPollStore } from "./storage/poll-store.js";
import { createResultsStore } from "./storage/results-store.js";
import { createHttpApp } from "./transports/http/app.js";
import { healthRoutes } from "./transports/http/health-routes.js";
import { pollRoutes } from "./transports/http/poll-routes.js";
import { webRoutes } from "./transports/http/web-routes.js";
import { createSocketTransport, type SocketTransport } from "./transports/socket/index.js";
import { createUseCases } from "./usecases/index.js";
import { VERSION } from "./version.js";
import { createVoteWriter } from "./votes/writer.js";

export interface Zephyr {
  config: Config;
  db: Database;
  metrics: Metrics;
  lifecycle: Lifecycle;
  sockets: SocketTransport;
  retention: Retention;
  address(): AddressInfo;
  listen(): Promise<AddressInfo>;
  /** Graceful stop (what SIGTERM does); resolves when everything is closed. */
  shutdown(reason?: string): Promise<void>;
}

/**
 * The composition root: builds every piece from the config, in the direction data flows (storage → writer →
 * results → transports), giving each factory only the settings it uses.
 */
export async function createZephyr(config: Config, logger: Logger): Promise<Zephyr> {
  const db = await openDatabase(config.database, logger);
  if (config.database.migrateOnStart) await migrate(db, logger);

  const metrics = createMetrics({ version: VERSION, poolStats: () => db.poolStats() });
  const redis = usesRedis(config.redis) ? redisBackplane(config.redis, logger, metrics) : undefined;
  const redisError = (client: string) => () => metrics.redisErrors.inc({ client });

  const resultsStore = createResultsStore(db);
  const presenceStore = redis?.presenceStore ?? createMemoryPresenceStore();
  const results = createResults({
    store: resultsStore,
    relay: redis?.relay ?? createLocalRelay(),
    countOnline: (pollId) => presenceStore.count(pollId),
    logger,
    ...config.results,
  });
  const presence = createPresence({
    store: presenceStore,
    publish: (pollId, online) => results.online(pollId, online),
    onError: redisError("presence"),
    ...config.presence,
  });
  const writer = createVoteWriter({
    store: resultsStore,
    results,
    logger,
    maxBatch: config.votes.batchMax,
    windowMs: config.votes.batchWindowMs,
    onBatch: (size) => metrics.voteBatchSize.observe(size),
  });
  const polls = createPollStore(db);
  const participantWriter = createParticipantWriter({
    store: polls,
    results,
    cap: config.polls.participantCap,
    logger,
  });
  const limits = config.limits;
  const useCases = createUseCases({
    polls,
    participants: participantWriter,
    votes: writer,
    questions: createHostStore(db),
    exporter: { rows: (pollId) => exportRows(db, pollId) },
    results,
    limits: createLimits({
      rules: {
        pollCreate: { points: limits.pollCreate, windowMs: limits.windowMs },
        join: { points: limits.join, windowMs: limits.windowMs },
        joinPolls: { points: limits.joinPolls, windowMs: limits.windowMs },
        roomMiss: { points: limits.roomMiss, windowMs: limits.windowMs },
        vote: { points: limits.vote, windowMs: limits.voteWindowMs },
      },
      redis: redis?.state,
      prefix: `${config.redis.keyPrefix}:rl`,
      onFallback: redisError("ratelimit"),
    }),
    observer: useCaseObserver(metrics),
    lookupCacheMs: config.polls.cacheMs,
  });
  const retention = createRetention({
    db,
    logger,
    retentionMs: config.polls.retentionDays * 86_400_000,
    sweepMs: config.polls.retentionSweepMs,
    onDeleted: (n) => metrics.retentionDeleted.inc(n),
  });

  const closeServer = (s: Server | undefined) =>
    new Promise<void>((resolve) => (s?.listening ? s.close(() => resolve()) : resolve()));
  const lifecycle = createLifecycle({
    logger,
    delayMs: config.shutdown.delayMs,
    steps: () => [
      { name: "rebalance", run: async () => rebalancer?.close() },
      { name: "sockets", run: () => sockets.drain(config.shutdown.drainWindowMs) },
      {
        name: "http",
        run: () => {
          // close() stops accepting and waits for open connections. Keep-alive clients would keep theirs busy
          // forever, so every response from now on closes its connection, and idle ones are closed at once.
          server.on("request", (_req, res: ServerResponse) => {
            res.shouldKeepAlive = false;
          });
          const closed = closeServer(server);
          // A request already under way kept its keep-alive response, so its connection turns idle only after
          // this step began and would hold close() until the shutdown timeout: idle ones are closed until done.
          server.closeIdleConnections();
          const sweep = setInterval(() => server.closeIdleConnections(), 100);
          return closed.finally(() => clearInterval(sweep));
        },
      },
      { name: "joins", run: () => participantWriter.flush() },
      { name: "votes", run: () => writer.flush() },
      { name: "presence", run: () => presence.close() },
      { name: "realtime", run: () => sockets.close() },
      { name: "results", run: async () => results.close() },
      { name: "retention", run: () => retention.close() },
      { name: "metrics", run: () => closeServer(metricsServer) },
      { name: "redis", run: async () => redis?.quit() },
      { name: "database", run: () => db.close() },
    ],
  });

  const isDraining = () => lifecycle.draining;
  const { corsOrigins, trustProxyHops } = config.http;
  const web = webRoutes();
  const app = createHttpApp({ logger, metrics, ...config.http, notFoundPage: web.notFoundPage });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const sockets = createSocketTransport({
    httpServer: server,
    socket: config.socket,
    corsOrigins,
    trustProxyHops,
    useCases,
    results,
    presence,
    metrics,
    logger,
    isDraining,
    adapter: redis?.socketAdapter,
  });

  const rebalancer =
    redis && config.rebalance.enabled
      ? createRebalancer({
          board: redis.loadBoard(config.log.instanceId, config.rebalance.intervalMs * 3),
          connections: sockets.connections,
          shed: sockets.shedOne,
          isDraining,
          onShed: () => metrics.rebalanceShed.inc(),
          onDecision: (d) => logger.info(d, "rebalance: shedding connections toward the fleet's mean"),
          ...config.rebalance,
        })
      : undefined;

  app.route(
    "/api",
    healthRoutes({
      instanceId: config.log.instanceId,
      version: VERSION,
      probes: [
        { name: "database", check: () => db.ping() },
        ...(redis ? [{ name: "redis" as const, check: redis.ping }] : []),
      ],
      isDraining,
      connections: sockets.connections,
      usingRedisAdapter: () => Boolean(redis),
    }),
  );
  app.route("/api", pollRoutes({ useCases, trustProxyHops }));
  const metricsHandler = async (c: Context) => {
    c.header("Content-Type", metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  };
  app.get("/metrics", metricsHandler);
  app.route("/", web.routes);
  // A separate metrics port keeps scrapes off the public listener (NetworkPolicy can then allow only Prometheus).
  const metricsServer =
    config.http.metricsPort > 0
      ? (createAdaptorServer({ fetch: new Hono().get("/metrics", metricsHandler).fetch }) as Server)
      : undefined;

  const listen = (s: Server, port: number) =>
    new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, config.http.host, () => resolve());
    });
  // Node's defaults (5 s keep-alive) are shorter than common load-balancer idle timeouts; a LB reusing a
  // connection the server just closed produces sporadic 502s.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const address = () => {
    const a = server.address();
    if (!a || typeof a === "string") throw new Error("not listening");
    return a;
  };

  return {
    config,
    db,
    metrics,
    lifecycle,
    sockets,
    retention,
    address,
    async listen() {
      if (metricsServer) await listen(metricsServer, config.http.metricsPort);
      await listen(server, config.http.port);
      return address();
    },
    shutdown(reason = "shutdown") {
      return lifecycle.shutdown(reason);
    },
  };
}
