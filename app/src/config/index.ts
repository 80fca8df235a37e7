import { hostname } from "node:os";
import { z } from "zod";

/**
 * The one configuration schema of the service. Every setting is an environment variable; the README's
 * configuration table is generated from the `describe()` text here, so keep both in one place.
 */
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

export const configFields = z.object({
  PORT: int(0, 65535).default(4000).describe("HTTP (and Socket.IO) listen port (0 picks a free port)"),
  HOST: z.string().min(1).default("0.0.0.0").describe("Listen address"),
  METRICS_PORT: int(0, 65535)
    .default(0)
    .describe("Separate port for /metrics (0 = serve /metrics on PORT as well)"),
  INSTANCE_ID: z
    .string()
    .min(1)
    .max(128)
    .default(hostname())
    .describe("Instance name in logs, health and metrics"),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info")
    .describe("Minimum log level"),
  ACCESS_LOG: z
    .enum(["all", "errors", "off"])
    .default("errors")
    .describe(
      "HTTP access log lines (info level): every request, only failed (status >= 400) or slow (>= 1 s) ones, or none; metrics count every request either way",
    ),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
    .optional()
    .describe(
      "PostgreSQL connection URL; wins over DB_HOST/…; when neither is set the embedded PGlite is used",
    ),
  DB_HOST: z.string().optional().describe("PostgreSQL host (alternative to DATABASE_URL)"),
  DB_PORT: int(1, 65535).default(5432).describe("PostgreSQL port"),
  DB_USER: z.string().default("zephyr").describe("PostgreSQL user"),
  DB_PASSWORD: z.string().optional().describe("PostgreSQL password (secret)"),
  DB_NAME: z.string().default("zephyr").describe("PostgreSQL database"),
  DB_SSL: bool.default(false).describe("Use TLS to PostgreSQL (with DB_HOST; in a URL use sslmode)"),
  DB_POOL_SIZE: int(1, 500).default(20).describe("Maximum PostgreSQL connections per instance"),
  DB_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(5000).describe("statement_timeout for every query"),
  DB_CONNECT_TIMEOUT_MS: int(100, 600_000).default(3000).describe("Timeout to open one database connection"),
  DB_STARTUP_RETRY_MS: int(0, 3_600_000)
    .default(60_000)
    .describe("How long start-up keeps retrying (with backoff) to reach the database before failing"),
  PGLITE_DATA_DIR: z
    .string()
    .optional()
    .describe("Embedded PGlite data directory (unset = in memory, data lost on exit)"),
  MIGRATE_ON_START: bool
    .default(true)
    .describe(
      "Apply pending migrations at start-up under an advisory lock (false when a migrate Job runs them)",
    ),

  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .optional()
    .describe("Redis URL (rediss:// for TLS); wins over REDIS_HOST; unset = in-memory adapter and state"),
  REDIS_HOST: z.string().optional().describe("Redis host (alternative to REDIS_URL)"),
  REDIS_PORT: int(1, 65535).default(6379).describe("Redis port"),
  REDIS_PASSWORD: z.string().optional().describe("Redis password (secret)"),
  REDIS_TLS: bool.default(false).describe("Use TLS to Redis (with REDIS_HOST)"),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, '_', '.', '-' (1-64)")
    .default("zephyr")
    .describe("Prefix of every Redis key and pub/sub channel, so several deployments can share one Redis"),

  SESSION_TTL_SECONDS: int(60, 7 * 24 * 3600)
    .default(3600)
    .describe("Participant session TTL, refreshed on activity"),
  CORS_ORIGINS: csv
    .default([])
    .describe("Comma-separated allowed browser origins (`*` = any); empty = no cross-origin access"),
  TRUST_PROXY_HOPS: int(0, 10)
    .default(0)
    .describe(
      "Number of trusted reverse proxies in front; client IP taken from X-Forwarded-For only when > 0",
    ),
  BODY_LIMIT_BYTES: int(256, 1_048_576).default(16_384).describe("Maximum HTTP request body"),
  RATE_LIMIT_WINDOW_MS: int(1000, 3_600_000).default(60_000).describe("Rate-limit window"),
  RATE_LIMIT_POLL_CREATE: int(1, 1_000_000).default(30).describe("Polls one client IP may create per window"),
  RATE_LIMIT_JOIN: int(1, 1_000_000)
    .default(120)
    .describe("Participants one client IP may create per window"),

  SOCKET_TRANSPORTS: csv
    .default(["polling", "websocket"])
    .pipe(z.array(z.enum(["polling", "websocket"])).min(1, "at least one transport"))
    .describe("Socket.IO transports: `polling,websocket` or `websocket` only"),
  SOCKET_MAX_PAYLOAD_BYTES: int(1024, 1_048_576)
    .default(16_384)
    .describe("Largest Socket.IO message accepted"),
  SOCKET_PING_INTERVAL_MS: int(1000, 600_000).default(25_000).describe("Socket.IO heartbeat interval"),
  SOCKET_PING_TIMEOUT_MS: int(1000, 600_000).default(20_000).describe("Socket.IO heartbeat timeout"),
  BROADCAST_INTERVAL_MS: int(0, 10_000)
    .default(100)
    .describe(
      "Minimum gap between vote-update messages per room per instance (0 = one broadcast per vote batch)",
    ),
  RESULTS_RESYNC_MS: int(0, 600_000)
    .default(5000)
    .describe(
      "How often an instance re-reads results of rooms with local members, healing missed notifications (0 = never)",
    ),
  RESULTS_CACHE_MS: int(0, 60_000)
    .default(250)
    .describe(
      "Longest an instance serves GET …/results from memory without a newer committed snapshot (0 = always read the database)",
    ),
  POLL_CACHE_MS: int(0, 60_000)
    .default(1000)
    .describe(
      "Longest an instance reuses a poll's row and a participant token's owner for votes and joins (0 = always read); every vote batch re-checks the poll in PostgreSQL",
    ),
  VOTE_BATCH_MAX: int(1, 10_000)
    .default(500)
    .describe("Most votes written in one group-commit transaction (1 = one transaction per vote)"),
  VOTE_BATCH_WINDOW_MS: int(0, 1000)
    .default(2)
    .describe(
      "How long the first vote of an idle poll waits for others to share its transaction (0 = only the rest of the event-loop turn); votes arriving during a write always form the next batch",
    ),
  RATE_LIMIT_VOTE: int(1, 1_000_000)
    .default(30)
    .describe("Votes one participant may submit per RATE_LIMIT_VOTE_WINDOW_MS"),
  RATE_LIMIT_VOTE_WINDOW_MS: int(1000, 3_600_000).default(10_000).describe("Window of RATE_LIMIT_VOTE"),
  RATE_LIMIT_ROOM_MISS: int(1, 1_000_000)
    .default(30)
    .describe("Unknown room codes one client IP may try per RATE_LIMIT_WINDOW_MS (room-code guessing)"),
  DRAIN_WINDOW_MS: int(0, 600_000)
    .default(5000)
    .describe("After SIGTERM (and SHUTDOWN_DELAY_MS): spread closing client connections over this window"),
  SHUTDOWN_DELAY_MS: int(0, 600_000)
    .default(0)
    .describe("After SIGTERM: time spent unready but still serving, so load balancers stop routing here"),
  SHUTDOWN_TIMEOUT_MS: int(1000, 600_000)
    .default(10_000)
    .describe("After SIGTERM: hard limit for the whole shutdown, exit code 1 when exceeded"),
});

export const configSchema = configFields.superRefine((c, ctx) => {
  if (c.DATABASE_URL && c.DB_HOST) {
    ctx.addIssue({
      code: "custom",
      path: ["DATABASE_URL"],
      message: "set DATABASE_URL or DB_HOST, not both",
    });
  }
  if (c.REDIS_URL && c.REDIS_HOST) {
    ctx.addIssue({ code: "custom", path: ["REDIS_URL"], message: "set REDIS_URL or REDIS_HOST, not both" });
  }
  if (c.PGLITE_DATA_DIR && (c.DATABASE_URL || c.DB_HOST)) {
    ctx.addIssue({
      code: "custom",
      path: ["PGLITE_DATA_DIR"],
      message: "PGLITE_DATA_DIR is for the embedded database; unset it when PostgreSQL is configured",
    });
  }
});

type RawConfig = z.output<typeof configSchema>;

export type DatabaseTarget =
  | {
      kind: "postgres";
      connectionString?: string;
      host?: string;
      port: number;
      user: string;
      password?: string;
      database: string;
      ssl: boolean;
    }
  | { kind: "pglite"; dataDir?: string };

export type RedisTarget = {
  url?: string;
  host?: string;
  port: number;
  password?: string;
  tls: boolean;
  keyPrefix: string;
};

export interface Config {
  port: number;
  host: string;
  metricsPort: number;
  instanceId: string;
  logLevel: RawConfig["LOG_LEVEL"];
  accessLog: RawConfig["ACCESS_LOG"];
  database: DatabaseTarget;
  dbPoolSize: number;
  dbStatementTimeoutMs: number;
  dbConnectTimeoutMs: number;
  dbStartupRetryMs: number;
  migrateOnStart: boolean;
  redis?: RedisTarget;
  sessionTtlSeconds: number;
  corsOrigins: string[];
  trustProxyHops: number;
  bodyLimitBytes: number;
  rateLimit: RateLimitConfig;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  socket: {
    transports: Array<"polling" | "websocket">;
    maxPayloadBytes: number;
    pingIntervalMs: number;
    pingTimeoutMs: number;
  };
  broadcastIntervalMs: number;
  resultsResyncMs: number;
  resultsCacheMs: number;
  pollCacheMs: number;
  voteBatch: { max: number; windowMs: number };
  drainWindowMs: number;
}

export interface RateLimitConfig {
  windowMs: number;
  pollCreate: number;
  join: number;
  vote: number;
  voteWindowMs: number;
  roomMiss: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws a ConfigError listing every bad variable (never their values). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset": Kubernetes and Compose often render optional values as "".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(config)"}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  const database: DatabaseTarget =
    c.DATABASE_URL || c.DB_HOST
      ? {
          kind: "postgres",
          connectionString: c.DATABASE_URL,
          host: c.DB_HOST,
          port: c.DB_PORT,
          user: c.DB_USER,
          password: c.DB_PASSWORD,
          database: c.DB_NAME,
          // A URL carries its own sslmode; DB_SSL is for the DB_HOST form only.
          ssl: c.DATABASE_URL ? false : c.DB_SSL,
        }
      : { kind: "pglite", dataDir: c.PGLITE_DATA_DIR };
  const redis: RedisTarget | undefined =
    c.REDIS_URL || c.REDIS_HOST
      ? {
          url: c.REDIS_URL,
          host: c.REDIS_HOST,
          port: c.REDIS_PORT,
          password: c.REDIS_PASSWORD,
          tls: c.REDIS_TLS,
          keyPrefix: c.REDIS_KEY_PREFIX,
        }
      : undefined;
  return {
    port: c.PORT,
    host: c.HOST,
    metricsPort: c.METRICS_PORT,
    instanceId: c.INSTANCE_ID,
    logLevel: c.LOG_LEVEL,
    accessLog: c.ACCESS_LOG,
    database,
    dbPoolSize: c.DB_POOL_SIZE,
    dbStatementTimeoutMs: c.DB_STATEMENT_TIMEOUT_MS,
    dbConnectTimeoutMs: c.DB_CONNECT_TIMEOUT_MS,
    dbStartupRetryMs: c.DB_STARTUP_RETRY_MS,
    migrateOnStart: c.MIGRATE_ON_START,
    redis,
    sessionTtlSeconds: c.SESSION_TTL_SECONDS,
    corsOrigins: c.CORS_ORIGINS,
    trustProxyHops: c.TRUST_PROXY_HOPS,
    bodyLimitBytes: c.BODY_LIMIT_BYTES,
    rateLimit: {
      windowMs: c.RATE_LIMIT_WINDOW_MS,
      pollCreate: c.RATE_LIMIT_POLL_CREATE,
      join: c.RATE_LIMIT_JOIN,
      vote: c.RATE_LIMIT_VOTE,
      voteWindowMs: c.RATE_LIMIT_VOTE_WINDOW_MS,
      roomMiss: c.RATE_LIMIT_ROOM_MISS,
    },
    shutdownDelayMs: c.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    socket: {
      transports: c.SOCKET_TRANSPORTS,
      maxPayloadBytes: c.SOCKET_MAX_PAYLOAD_BYTES,
      pingIntervalMs: c.SOCKET_PING_INTERVAL_MS,
      pingTimeoutMs: c.SOCKET_PING_TIMEOUT_MS,
    },
    broadcastIntervalMs: c.BROADCAST_INTERVAL_MS,
    resultsResyncMs: c.RESULTS_RESYNC_MS,
    resultsCacheMs: c.RESULTS_CACHE_MS,
    pollCacheMs: c.POLL_CACHE_MS,
    voteBatch: { max: c.VOTE_BATCH_MAX, windowMs: c.VOTE_BATCH_WINDOW_MS },
    drainWindowMs: c.DRAIN_WINDOW_MS,
  };
}
