import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../../../test/paths.js";
import { freePort } from "../../../test/services.js";
import { requireTool } from "../../../test/tools.js";
import { waitFor } from "../../../test/zephyr.js";
import { loadConfig, usesPostgres, usesRedis } from "../../src/config/index.js";
import { dockerStages, interpolateAll, type Json, requireSchema, validator } from "./support.js";

/**
 * docker-compose.yml without Docker (CI has no daemon): the Compose Specification schema, then the structure the
 * setup depends on, compose's variable interpolation with and without the required passwords, and the parts
 * that can run outside a container (the backend health check, the Redis command line) run for real.
 */

const run = promisify(execFile);
const schema = requireSchema("compose/compose-spec.json");
const text = readFileSync(resolve(REPO_ROOT, "docker-compose.yml"), "utf8");
// Compose resolves YAML merge keys (<<) before validating; so does this parse.
const raw = parse(text, { merge: true }) as Json;

/** .env.example as compose would read it once copied to .env (comments and blank lines dropped). */
function envExample(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(resolve(REPO_ROOT, ".env.example"), "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}

const FILLED = { ...envExample(), POSTGRES_PASSWORD: "pg-Pass:w@rd/1", REDIS_PASSWORD: "redis-Pass:w@rd/2" };
const cfg = interpolateAll(raw, FILLED) as Json;
const services = cfg.services as Record<string, Json>;
const BACKENDS = ["backend-1", "backend-2", "backend-3"];

const duration = (d: string) => {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  return (Number(m?.[1] ?? 0) * 60 + Number(m?.[2] ?? 0)) * 1000;
};

describe("docker-compose.yml", () => {
  it.skipIf(!schema)("validates against the Compose Specification, which rejects a broken copy", () => {
    const validate = validator(schema as Json);
    expect(validate(raw)).toEqual([]);
    const broken = structuredClone(raw);
    broken.services.nginx.depends_on["backend-1"].condition = "service_ready";
    broken.services.postgres.healthcheck.intervall = "5s";
    const errors = validate(broken).join("\n");
    expect(errors).toContain("/services/nginx/depends_on/backend-1/condition");
    expect(errors).toContain("(intervall)");
  });

  it("three backends from the production image target, nginx, PostgreSQL and Redis", () => {
    expect(Object.keys(services).sort()).toEqual([...BACKENDS, "nginx", "postgres", "redis"].sort());
    const lastStage = dockerStages().at(-1)?.name;
    for (const b of BACKENDS) {
      const s = services[b] as Json;
      expect(existsSync(resolve(REPO_ROOT, s.build.context, s.build.dockerfile)), b).toBe(true);
      expect(s.build.target, b).toBe(lastStage);
      expect(s.environment.INSTANCE_ID).toBe(b);
      // Only nginx is published: a client reaching a backend directly could forge X-Forwarded-For.
      expect(s.ports, b).toBeUndefined();
      expect(s.environment.TRUST_PROXY_HOPS).toBe("1");
      expect(s.environment.MIGRATE_ON_START).toBe("true");
      expect(s.read_only).toBe(true);
    }
    const { environment: e1, ...rest1 } = services["backend-1"] as Json;
    for (const b of BACKENDS.slice(1)) {
      const { environment, ...rest } = services[b] as Json;
      expect(rest, `${b} is configured like backend-1`).toEqual(rest1);
      expect({ ...environment, INSTANCE_ID: "backend-1" }).toEqual(e1);
    }
  });

  it("every service has a health check, and start-up order waits on health, not on mere start", () => {
    for (const [name, s] of Object.entries(services)) {
      expect(Array.isArray(s.healthcheck?.test) && s.healthcheck.test.length > 1, name).toBe(true);
      expect(s.healthcheck.test[0]).toMatch(/^CMD(-SHELL)?$/);
      expect(s.healthcheck.disable, name).toBeUndefined();
    }
    const conditions = (name: string) =>
      Object.fromEntries(
        Object.entries((services[name] as Json).depends_on as Json).map(([k, v]) => [k, v.condition]),
      );
    for (const b of BACKENDS)
      expect(conditions(b)).toEqual({ postgres: "service_healthy", redis: "service_healthy" });
    expect(conditions("nginx")).toEqual(Object.fromEntries(BACKENDS.map((b) => [b, "service_healthy"])));
  });

  it("PostgreSQL data and the Redis append-only file each have their own volume at their own data path", () => {
    const mounts = Object.entries(services).flatMap(([svc, s]) =>
      ((s.volumes ?? []) as string[]).map((v) => {
        const [source, target] = v.split(":");
        return { svc, source, target };
      }),
    );
    const named = mounts.filter((m) => !m.source?.startsWith("."));
    expect(named).toEqual([
      { svc: "postgres", source: "postgres-data", target: "/var/lib/postgresql/data" },
      { svc: "redis", source: "redis-data", target: "/data" },
    ]);
    expect(Object.keys(cfg.volumes).sort()).toEqual(["postgres-data", "redis-data"]);
    const redisCmd = ((services.redis?.command ?? []) as string[]).join(" ");
    expect(redisCmd).toContain("--appendonly yes");
    // The official image's working directory, where appendonly files go unless --dir says otherwise.
    expect(redisCmd).not.toContain("--dir");
  });

  it("passwords are required from the environment: no defaults, and compose refuses to start without them", () => {
    const secretRefs: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (typeof node === "string") {
        if (/PASSWORD/.test(path)) {
          expect(node, path).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
          secretRefs.push(path);
        }
        expect(node, `${path}: no default for a password`).not.toMatch(/\$\{[A-Z_]*PASSWORD[A-Z_]*:?-/);
      } else if (node && typeof node === "object")
        for (const [k, v] of Object.entries(node)) walk(v, `${path}/${k}`);
    };
    walk(raw.services, "");
    expect(secretRefs.sort()).toEqual(
      [
        ...BACKENDS.flatMap((b) => [`/${b}/environment/DB_PASSWORD`, `/${b}/environment/REDIS_PASSWORD`]),
        "/postgres/environment/POSTGRES_PASSWORD",
        "/redis/environment/REDIS_PASSWORD",
      ].sort(),
    );
    // .env.example as shipped (empty passwords) and without each one: compose fails, naming the variable.
    expect(() => interpolateAll(raw, envExample())).toThrow(/POSTGRES_PASSWORD|REDIS_PASSWORD/);
    for (const v of ["POSTGRES_PASSWORD", "REDIS_PASSWORD"])
      expect(() => interpolateAll(raw, { ...FILLED, [v]: undefined })).toThrow(v);
    // Filled in, the backends use exactly the passwords the servers are started with.
    for (const b of BACKENDS) {
      expect(services[b]?.environment.DB_PASSWORD).toBe(FILLED.POSTGRES_PASSWORD);
      expect(services[b]?.environment.REDIS_PASSWORD).toBe(FILLED.REDIS_PASSWORD);
    }
    expect(services.postgres?.environment.POSTGRES_PASSWORD).toBe(FILLED.POSTGRES_PASSWORD);
    expect(services.redis?.environment.REDIS_PASSWORD).toBe(FILLED.REDIS_PASSWORD);
    // The password reaches Redis through its environment at run time, not through the container's command.
    expect(JSON.stringify(services.redis?.command)).not.toContain(FILLED.REDIS_PASSWORD);
    expect(JSON.stringify(services.redis?.command)).toContain('--requirepass \\"$REDIS_PASSWORD\\"');
  });

  it("the backend environment is valid app configuration, and the containers outlast the app's shutdown limit", () => {
    const env = services["backend-1"]?.environment as Record<string, string>;
    const config = loadConfig(env);
    expect(config.http.trustProxyHops).toBe(1);
    expect(usesRedis(config.redis)).toBe(true);
    expect(usesPostgres(config.database)).toBe(true);
    for (const b of BACKENDS)
      expect(duration(services[b]?.stop_grace_period)).toBeGreaterThan(loadConfig(env).shutdown.timeoutMs);
  });

  it("nginx gets app/deploy/nginx.conf, whose upstreams are the backends on their PORT", () => {
    const nginx = services.nginx as Json;
    const [source, target] = (nginx.volumes[0] as string).split(":");
    expect(resolve(REPO_ROOT, source as string)).toBe(resolve(REPO_ROOT, "app/deploy/nginx.conf"));
    const command = nginx.command as string[];
    expect(command[command.indexOf("-c") + 1]).toBe(target);
    const conf = readFileSync(resolve(REPO_ROOT, "app/deploy/nginx.conf"), "utf8");
    // Each upstream group (least busy, and cookie-sticky for long-polling) lists every backend.
    const groups = [...conf.matchAll(/^\s*upstream\s+([\w-]+)\s*\{([^}]*)\}/gm)];
    expect(groups.map((g) => g[1])).toEqual(["zephyr", "zephyr_sticky"]);
    for (const [, , body] of groups) {
      const upstreams = [...(body as string).matchAll(/^\s*server\s+([\w-]+):(\d+)/gm)].map(
        (m) => `${m[1]}:${m[2]}`,
      );
      expect(upstreams).toEqual(BACKENDS.map((b) => `${b}:${services[b]?.environment.PORT}`));
    }
    const listen = /^\s*listen\s+(\d+);/m.exec(conf)?.[1];
    expect(nginx.ports).toEqual([expect.stringMatching(new RegExp(`:${listen}$`))]);
  });

  it("the backend health check passes on 200 and fails on 503 and on a refused connection", async () => {
    const test = services["backend-1"]?.healthcheck.test as string[];
    expect(test.slice(0, 3)).toEqual(["CMD", "node", "-e"]);
    let status = 200;
    const server = createServer((req, res) => {
      res.statusCode = req.url === "/api/health/ready" ? status : 404;
      res.end();
    });
    const port = await new Promise<number>((r) =>
      server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)),
    );
    const script = (test[3] as string).replace("127.0.0.1:4000", `127.0.0.1:${port}`);
    expect(script).not.toBe(test[3]);
    const exitCode = () =>
      run(process.execPath, ["-e", script]).then(
        () => 0,
        (e: { code?: number }) => e.code ?? -1,
      );
    try {
      expect(await exitCode()).toBe(0);
      status = 503;
      expect(await exitCode()).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await exitCode()).toBe(1);
  });

  const redisServer = requireTool("redis-server");
  const redisCli = requireTool("redis-cli");
  it.skipIf(!redisServer || !redisCli)(
    "the Redis command line, run for real: AUTH required, AOF on, and the health check authenticates",
    async () => {
      const redis = services.redis as Json;
      const [sh, flag, script] = redis.command as string[];
      expect([sh, flag]).toEqual(["sh", "-c"]);
      const dir = mkdtempSync(join(tmpdir(), "zephyr-compose-redis-"));
      const port = await freePort();
      // Only what a container provides differently is appended: a free port and a data directory.
      const child = spawn("sh", ["-c", `${script} --port ${port} --bind 127.0.0.1 --dir ${dir}`], {
        env: { PATH: process.env.PATH, ...redis.environment },
        stdio: "ignore",
      });
      const exited = new Promise((r) => child.once("exit", r));
      const anonymous = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
      const authed = new Redis({
        port,
        host: "127.0.0.1",
        password: FILLED.REDIS_PASSWORD,
        maxRetriesPerRequest: 1,
      });
      // Refused connections while the server starts, and NOAUTH, are expected here; the assertions check them.
      anonymous.on("error", () => undefined);
      authed.on("error", () => undefined);
      try {
        await waitFor(async () => (await authed.ping()) === "PONG", {
          what: "redis from the compose command",
        });
        await anonymous.connect().catch(() => undefined);
        await expect(anonymous.get("x")).rejects.toThrow(/NOAUTH/);
        expect(await authed.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
        expect(await authed.config("GET", "appendfsync")).toEqual(["appendfsync", "everysec"]);
        const [, healthScript] = redis.healthcheck.test as string[];
        const health = (password: string) =>
          run("sh", ["-c", (healthScript as string).replace("redis-cli", `redis-cli -p ${port}`)], {
            env: { PATH: process.env.PATH, REDIS_PASSWORD: password },
          }).then(
            () => 0,
            (e: { code?: number }) => e.code ?? -1,
          );
        expect(await health(FILLED.REDIS_PASSWORD)).toBe(0);
        expect(await health("wrong")).not.toBe(0);
      } finally {
        anonymous.disconnect();
        authed.disconnect();
        child.kill("SIGTERM");
        await exited;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
