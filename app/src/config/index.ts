import { z } from "zod";
import { type Config, type Setting, settings } from "./settings.js";

export type { Config } from "./settings.js";
export type DatabaseConfig = Config["database"];
export type RedisConfig = Config["redis"];

const allSettings = Object.entries(settings).flatMap(([group, fields]) =>
  Object.entries(fields as Record<string, Setting>).map(([key, s]) => ({ group, key, ...s })),
);

/** Every environment variable with its schema: what the parser checks and the docs table lists. */
export const configFields = z.object(Object.fromEntries(allSettings.map((s) => [s.env, s.schema])));

const configSchema = configFields.superRefine((c, ctx) => {
  const set = (name: string) => c[name] !== undefined;
  if (set("DATABASE_URL") && set("DB_HOST"))
    ctx.addIssue({
      code: "custom",
      path: ["DATABASE_URL"],
      message: "set DATABASE_URL or DB_HOST, not both",
    });
  if (set("REDIS_URL") && set("REDIS_HOST"))
    ctx.addIssue({ code: "custom", path: ["REDIS_URL"], message: "set REDIS_URL or REDIS_HOST, not both" });
  if (set("REDIS_CLUSTER_NODES") && (set("REDIS_URL") || set("REDIS_HOST")))
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_CLUSTER_NODES"],
      message: "REDIS_CLUSTER_NODES selects a Redis Cluster; unset REDIS_URL and REDIS_HOST (a single Redis)",
    });
  if (set("PGLITE_DATA_DIR") && (set("DATABASE_URL") || set("DB_HOST")))
    ctx.addIssue({
      code: "custom",
      path: ["PGLITE_DATA_DIR"],
      message: "PGLITE_DATA_DIR is for the embedded database; unset it when PostgreSQL is configured",
    });
});

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
  const config: Record<string, Record<string, unknown>> = {};
  for (const s of allSettings) {
    config[s.group] ??= {};
    (config[s.group] as Record<string, unknown>)[s.key] = parsed.data[s.env];
  }
  return config as Config;
}

/** PostgreSQL when configured, else the embedded PGlite. */
export const usesPostgres = (db: DatabaseConfig) => Boolean(db.url || db.host);
/** Redis (one server, or a cluster) when configured, else in-memory adapter and state. */
export const usesRedis = (redis: RedisConfig) => Boolean(redis.url || redis.host || usesRedisCluster(redis));
/** A Redis Cluster: sharded pub/sub, and every key of one operation in one hash slot. */
export const usesRedisCluster = (redis: RedisConfig) => (redis.clusterNodes?.length ?? 0) > 0;
