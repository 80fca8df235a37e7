import { ConfigError, loadConfig, usesPostgres, usesRedis } from "./config/index.js";
import { createLogger, redactUrlCredentials } from "./logging/index.js";
import { createZephyr } from "./server.js";
import { migrate } from "./storage/migrations/index.js";
import { openDatabase } from "./storage/open.js";

/**
 * Entry point. `node app/dist/main.js` serves; `node app/dist/main.js migrate` applies migrations and exits
 * (for a Kubernetes Job or an init step).
 */
async function main(argv: string[]): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`zephyr: ${err.message}\n`);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level, instanceId: config.log.instanceId });
  // A library promise nobody awaited (e.g. a publish while Redis is down) must not take every connection
  // on this instance down with it: log it loudly instead. Synchronous exceptions still end the process.
  process.on("unhandledRejection", (reason) => {
    logger.error(
      { err: reason instanceof Error ? reason : { message: String(reason) } },
      "unhandled promise rejection",
    );
  });
  const command = argv[0] ?? "serve";

  if (command === "migrate") {
    const db = await openDatabase(config.database, logger);
    try {
      const result = await migrate(db, logger);
      logger.info(result, "migrations complete");
      return 0;
    } finally {
      await db.close();
    }
  }
  if (command !== "serve") {
    process.stderr.write(`zephyr: unknown command '${command}' (expected: serve, migrate)\n`);
    return 64; // EX_USAGE
  }

  const zephyr = await createZephyr(config, logger);
  const addr = await zephyr.listen();
  logger.info(
    {
      port: addr.port,
      host: addr.address,
      postgres: usesPostgres(config.database),
      redis: usesRedis(config.redis),
    },
    "zephyr listening",
  );

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      const hardStop = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdown.timeoutMs }, "shutdown timed out, exiting");
        process.exit(1);
      }, config.shutdown.timeoutMs);
      hardStop.unref();
      zephyr.shutdown(signal).then(resolve, resolve);
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  logger.info("shutdown complete");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Start-up failures: one readable line, credentials stripped, no stack trace unless debugging.
    const message = redactUrlCredentials(err instanceof Error ? err.message : String(err));
    process.stderr.write(`zephyr: fatal: ${message}\n`);
    if (process.env.LOG_LEVEL === "debug" && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  },
);
