import { hostname } from "node:os";
import { z } from "zod";
import { bool, csv, int, setting } from "./setting.js";

/** Where the service listens and what it connects to. */
export const infrastructureSettings = {
  http: {
    port: setting(
      "PORT",
      int(0, 65535).default(4000),
      "HTTP (and Socket.IO) listen port (0 picks a free port)",
    ),
    host: setting("HOST", z.string().min(1).default("0.0.0.0"), "Listen address"),
    metricsPort: setting(
      "METRICS_PORT",
      int(0, 65535).default(0),
      "Separate port for /metrics (0 = serve /metrics on PORT as well)",
    ),
    accessLog: setting(
      "ACCESS_LOG",
      z.enum(["all", "errors", "off"]).default("errors"),
      "HTTP access log lines (info level): every request, only failed (status >= 400) or slow (>= 1 s) ones, or none; metrics count every request either way",
    ),
    corsOrigins: setting(
      "CORS_ORIGINS",
      csv.default([]),
      "Comma-separated allowed browser origins (`*` = any); empty = no cross-origin access",
    ),
    trustProxyHops: setting(
      "TRUST_PROXY_HOPS",
      int(0, 10).default(0),
      "Number of trusted reverse proxies in front; client address taken from X-Forwarded-For only when > 0",
    ),
    bodyLimitBytes: setting(
      "BODY_LIMIT_BYTES",
      int(256, 1_048_576).default(16_384),
      "Maximum HTTP request body",
    ),
  },
  log: {
    instanceId: setting(
      "INSTANCE_ID",
      z.string().min(1).max(128).default(hostname()),
      "Instance name in logs, health and metrics",
    ),
    level: setting(
      "LOG_LEVEL",
      z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      "Minimum log level",
    ),
  },
  database: {
    url: setting(
      "DATABASE_URL",
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
        .optional(),
      "PostgreSQL connection URL; wins over DB_HOST/…; when neither is set the embedded PGlite is used",
    ),
    host: setting("DB_HOST", z.string().optional(), "PostgreSQL host (alternative to DATABASE_URL)"),
    port: setting("DB_PORT", int(1, 65535).default(5432), "PostgreSQL port"),
    user: setting("DB_USER", z.string().default("zephyr"), "PostgreSQL user"),
    password: setting("DB_PASSWORD", z.string().optional(), "PostgreSQL password (secret)"),
    name: setting("DB_NAME", z.string().default("zephyr"), "PostgreSQL database"),
    ssl: setting("DB_SSL", bool.default(false), "Use TLS to PostgreSQL (with DB_HOST; in a URL use sslmode)"),
    poolSize: setting("DB_POOL_SIZE", int(1, 500).default(20), "Maximum PostgreSQL connections per instance"),
    statementTimeoutMs: setting(
      "DB_STATEMENT_TIMEOUT_MS",
      int(100, 600_000).default(5000),
      "statement_timeout for every query",
    ),
    connectTimeoutMs: setting(
      "DB_CONNECT_TIMEOUT_MS",
      int(100, 600_000).default(3000),
      "Timeout to open one database connection",
    ),
    startupRetryMs: setting(
      "DB_STARTUP_RETRY_MS",
      int(0, 3_600_000).default(60_000),
      "How long start-up keeps retrying (with backoff) to reach the database before failing",
    ),
    pgliteDataDir: setting(
      "PGLITE_DATA_DIR",
      z.string().optional(),
      "Embedded PGlite data directory (unset = in memory, data lost on exit)",
    ),
    migrateOnStart: setting(
      "MIGRATE_ON_START",
      bool.default(true),
      "Apply pending migrations at start-up under an advisory lock (false when a migrate Job runs them)",
    ),
  },
  redis: {
    url: setting(
      "REDIS_URL",
      z
        .string()
        .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
        .optional(),
      "Redis URL (rediss:// for TLS); wins over REDIS_HOST; unset = in-memory adapter and state",
    ),
    host: setting("REDIS_HOST", z.string().optional(), "Redis host (alternative to REDIS_URL)"),
    clusterNodes: setting(
      "REDIS_CLUSTER_NODES",
      csv
        .pipe(
          z
            .array(
              z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/, "each node must be host:port"),
            )
            .min(1, "at least one host:port"),
        )
        .optional(),
      "Redis Cluster seed nodes, `host:port,host:port,…` (any reachable subset): cluster mode, with Redis 7 sharded pub/sub; password and TLS from REDIS_PASSWORD / REDIS_TLS. Not with REDIS_URL or REDIS_HOST",
    ),
    port: setting("REDIS_PORT", int(1, 65535).default(6379), "Redis port"),
    password: setting("REDIS_PASSWORD", z.string().optional(), "Redis password (secret)"),
    tls: setting(
      "REDIS_TLS",
      bool.default(false),
      "Use TLS to Redis (with REDIS_HOST or REDIS_CLUSTER_NODES; in a URL use rediss://)",
    ),
    keyPrefix: setting(
      "REDIS_KEY_PREFIX",
      z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, '_', '.', '-' (1-64)")
        .default("zephyr"),
      "Prefix of every Redis key and pub/sub channel, so several deployments can share one Redis",
    ),
  },
  socket: {
    transports: setting(
      "SOCKET_TRANSPORTS",
      csv
        .default(["polling", "websocket"])
        .pipe(z.array(z.enum(["polling", "websocket"])).min(1, "at least one transport")),
      "Socket.IO transports: `polling,websocket` or `websocket` only",
    ),
    maxPayloadBytes: setting(
      "SOCKET_MAX_PAYLOAD_BYTES",
      int(1024, 1_048_576).default(16_384),
      "Largest Socket.IO message accepted",
    ),
    pingIntervalMs: setting(
      "SOCKET_PING_INTERVAL_MS",
      int(1000, 600_000).default(25_000),
      "Socket.IO heartbeat interval",
    ),
    pingTimeoutMs: setting(
      "SOCKET_PING_TIMEOUT_MS",
      int(1000, 600_000).default(20_000),
      "Socket.IO heartbeat timeout",
    ),
  },
} as const;
