import { type DatabaseConfig, usesPostgres } from "../config/index.js";
import type { Logger } from "../logging/index.js";
import type { Database } from "./database.js";
import { createPgliteDatabase } from "./pglite.js";
import { createPostgresDatabase } from "./postgres.js";

/** The configured database, reachable: PostgreSQL (waited for, with backoff) or the embedded PGlite. */
export async function openDatabase(config: DatabaseConfig, logger: Logger): Promise<Database> {
  if (!usesPostgres(config)) {
    logger.info({ dataDir: config.pgliteDataDir ?? "(memory)" }, "using embedded PGlite database");
    return createPgliteDatabase({ dataDir: config.pgliteDataDir });
  }
  const db = createPostgresDatabase({
    connectionString: config.url,
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.name,
    // A URL carries its own sslmode; DB_SSL is for the DB_HOST form only.
    ssl: config.url ? false : config.ssl,
    poolSize: config.poolSize,
    statementTimeoutMs: config.statementTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    logger,
  });
  // Pods often start before the database is reachable (or while it fails over): retry with capped backoff.
  const deadline = Date.now() + config.startupRetryMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.ping(config.connectTimeoutMs);
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
