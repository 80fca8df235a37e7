import { describe, expect, it } from "vitest";
import { ConfigError, configFields, loadConfig } from "./index.js";

describe("loadConfig", () => {
  it("defaults to the embedded database, in-memory adapter and port 4000", () => {
    const c = loadConfig({});
    expect(c.port).toBe(4000);
    expect(c.database).toEqual({ kind: "pglite", dataDir: undefined });
    expect(c.redis).toBeUndefined();
    expect(c.dbPoolSize).toBe(20);
    expect(c.sessionTtlSeconds).toBe(3600);
    expect(c.instanceId.length).toBeGreaterThan(0);
  });

  it("builds a PostgreSQL target from DATABASE_URL or from DB_* parts", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://u:p@db:5432/z" }).database).toMatchObject({
      kind: "postgres",
      connectionString: "postgres://u:p@db:5432/z",
    });
    expect(loadConfig({ DB_HOST: "db", DB_PASSWORD: "pw", DB_PORT: "6432" }).database).toMatchObject({
      kind: "postgres",
      host: "db",
      port: 6432,
      password: "pw",
      user: "zephyr",
      database: "zephyr",
    });
  });

  it("accepts rediss:// and REDIS_HOST forms", () => {
    expect(loadConfig({ REDIS_URL: "rediss://:pw@cache:6380" }).redis).toMatchObject({
      url: "rediss://:pw@cache:6380",
    });
    expect(loadConfig({ REDIS_HOST: "cache", REDIS_TLS: "true" }).redis).toMatchObject({
      host: "cache",
      port: 6379,
      tls: true,
    });
  });

  it("treats empty variables as unset (Helm and Compose render optional values as empty strings)", () => {
    expect(loadConfig({ DATABASE_URL: "", REDIS_URL: "", CORS_ORIGINS: "" }).database.kind).toBe("pglite");
  });

  it("parses CORS_ORIGINS as a trimmed list", () => {
    expect(loadConfig({ CORS_ORIGINS: " https://a.example , https://b.example,," }).corsOrigins).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
  });

  it.each([
    [{ PORT: "http" }, /PORT/],
    [{ PORT: "70000" }, /PORT/],
    [{ DB_POOL_SIZE: "0" }, /DB_POOL_SIZE/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL: must start with postgres/],
    [{ REDIS_URL: "http://x" }, /REDIS_URL/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL/],
    [{ MIGRATE_ON_START: "maybe" }, /MIGRATE_ON_START/],
    [{ DATABASE_URL: "postgres://a/b", DB_HOST: "db" }, /not both/],
    [{ REDIS_URL: "redis://a", REDIS_HOST: "b" }, /not both/],
    [{ PGLITE_DATA_DIR: "/data", DB_HOST: "db" }, /PGLITE_DATA_DIR/],
  ])("fails fast on %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("never echoes a secret value in its error", () => {
    try {
      loadConfig({ DATABASE_URL: "mysql://user:hunter2@db/x" });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain("hunter2");
    }
  });

  it("documents every variable", () => {
    for (const [name, field] of Object.entries(configFields.shape)) {
      expect(field.description, name).toBeTruthy();
    }
  });
});
