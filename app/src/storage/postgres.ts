import pg from "pg";
import { UnavailableError } from "../domain/errors.js";
import type { Logger } from "../logging/index.js";
import { type Database, type Queryable, RETRYABLE_SQLSTATES, type Row, withTimeout } from "./database.js";

export interface PostgresOptions {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean;
  poolSize?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  logger?: Logger;
}

const CONNECTION_ERRNOS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/** True for "cannot talk to PostgreSQL right now" (as opposed to a bad query). */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const e = err as { code?: string; message?: string };
  if (e.code && CONNECTION_ERRNOS.has(e.code)) return true;
  // 08 connection exception, 57P01-03 shutdown / cannot connect now, 53300 too many connections
  if (e.code && (/^08/.test(e.code) || /^57P0[123]$/.test(e.code) || e.code === "53300")) return true;
  const m = e.message ?? "";
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/i.test(
    m,
  );
}

function wrap(err: unknown): unknown {
  return isConnectionError(err) ? new UnavailableError("database unavailable, retry shortly", err) : err;
}

function sessionOf(client: pg.PoolClient | pg.Pool): Queryable {
  return {
    async query<R extends Row>(sql: string, params?: readonly unknown[]) {
      try {
        const res = await client.query(sql, params as unknown[] | undefined);
        return res.rows as R[];
      } catch (err) {
        throw wrap(err);
      }
    },
    async exec(sql: string) {
      try {
        await client.query(sql);
      } catch (err) {
        throw wrap(err);
      }
    },
  };
}

export function createPostgresDatabase({
  connectionString,
  host,
  port = 5432,
  user,
  password,
  database,
  ssl = false,
  poolSize = 20,
  statementTimeoutMs = 5000,
  connectTimeoutMs = 3000,
  logger,
}: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString,
    host,
    port,
    user,
    password,
    database,
    ssl: ssl ? { rejectUnauthorized: true } : undefined,
    max: poolSize,
    statement_timeout: statementTimeoutMs,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "zephyr",
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled, it would kill the process.
  pool.on("error", (err) =>
    logger?.warn(
      { err: { message: err.message, code: (err as { code?: string }).code } },
      "idle database connection lost",
    ),
  );

  const direct = sessionOf(pool);

  async function withSession<T>(fn: (s: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw wrap(err);
    }
    let broken: Error | undefined;
    try {
      return await fn(sessionOf(client));
    } catch (err) {
      if (isConnectionError(err) || err instanceof UnavailableError) broken = err as Error;
      throw err;
    } finally {
      // A client whose connection failed must not go back into the pool.
      client.release(broken);
    }
  }

  return {
    kind: "postgres",
    query: direct.query,
    exec: direct.exec,
    withSession,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await withSession(async (s) => {
            await s.exec("BEGIN");
            try {
              const result = await fn(s);
              await s.exec("COMMIT");
              return result;
            } catch (err) {
              await s.exec("ROLLBACK").catch(() => undefined);
              throw err;
            }
          });
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (attempt < 5 && code && RETRYABLE_SQLSTATES.has(code)) {
            await new Promise((r) => setTimeout(r, 2 ** attempt + Math.random() * 10));
            continue;
          }
          throw err;
        }
      }
    },
    async ping(timeoutMs = 2000) {
      await withTimeout(direct.query("SELECT 1"), timeoutMs, "database ping");
    },
    poolStats() {
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolSize };
    },
    async close() {
      await pool.end();
    },
  };
}
