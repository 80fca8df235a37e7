import { describe, expect, it } from "vitest";
import { ConfigError, configFields, loadConfig, usesPostgres, usesRedis, usesRedisCluster } from "./index.js";
import { settings } from "./settings.js";

describe("loadConfig", () => {
  it("defaults to the embedded database, in-memory adapter and port 4000", () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(4000);
    expect(usesPostgres(c.database)).toBe(false);
    expect(usesRedis(c.redis)).toBe(false);
    expect(c.database.poolSize).toBe(20);
    expect(c.polls.participantCap).toBe(10_000);
    expect(c.log.instanceId.length).toBeGreaterThan(0);
  });

  it("builds a PostgreSQL target from DATABASE_URL or from DB_* parts", () => {
    const byUrl = loadConfig({ DATABASE_URL: "postgres://u:p@db:5432/z" }).database;
    expect(usesPostgres(byUrl)).toBe(true);
    expect(byUrl.url).toBe("postgres://u:p@db:5432/z");
    const byParts = loadConfig({ DB_HOST: "db", DB_PASSWORD: "pw", DB_PORT: "6432" }).database;
    expect(usesPostgres(byParts)).toBe(true);
    expect(byParts).toMatchObject({ host: "db", port: 6432, password: "pw", user: "zephyr", name: "zephyr" });
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

  it("selects a Redis Cluster from REDIS_CLUSTER_NODES, IPv6 nodes included", () => {
    const redis = loadConfig({
      REDIS_CLUSTER_NODES: " redis-0.redis:6379, 10.0.0.7:7000,[fd00::7]:6380 ",
      REDIS_PASSWORD: "pw",
      REDIS_TLS: "true",
    }).redis;
    expect(redis).toMatchObject({
      clusterNodes: ["redis-0.redis:6379", "10.0.0.7:7000", "[fd00::7]:6380"],
      password: "pw",
      tls: true,
    });
    expect(usesRedis(redis)).toBe(true);
    expect(usesRedisCluster(redis)).toBe(true);
    expect(usesRedisCluster(loadConfig({ REDIS_URL: "redis://cache:6379" }).redis)).toBe(false);
  });

  it("treats empty variables as unset (Helm and Compose render optional values as empty strings)", () => {
    const c = loadConfig({ DATABASE_URL: "", REDIS_URL: "", CORS_ORIGINS: "" });
    expect(usesPostgres(c.database)).toBe(false);
    expect(usesRedis(c.redis)).toBe(false);
  });

  it("parses CORS_ORIGINS as a trimmed list", () => {
    expect(loadConfig({ CORS_ORIGINS: " https://a.example , https://b.example,," }).http.corsOrigins).toEqual(
      ["https://a.example", "https://b.example"],
    );
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
    [{ REDIS_CLUSTER_NODES: "redis-0" }, /REDIS_CLUSTER_NODES.0: each node must be host:port/],
    [{ REDIS_CLUSTER_NODES: "a:1,redis://b:2" }, /REDIS_CLUSTER_NODES/],
    [{ REDIS_CLUSTER_NODES: "a:1", REDIS_URL: "redis://b" }, /selects a Redis Cluster/],
    [{ REDIS_CLUSTER_NODES: "a:1", REDIS_HOST: "b" }, /selects a Redis Cluster/],
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

  it("states each environment variable once", () => {
    const names = Object.values(settings).flatMap((group) => Object.values(group).map((s) => s.env));
    expect(new Set(names).size).toBe(names.length);
  });

  it("documents every variable", () => {
    for (const [name, field] of Object.entries(configFields.shape)) {
      expect(field.description, name).toBeTruthy();
    }
  });
});
