import { Hono } from "hono";
import type { RateLimitConfig } from "../config/index.js";
import { AppError, toClientError } from "../errors/index.js";
import { type AppEnv, bearerToken, readJson } from "../http/app.js";
import { clientIp } from "../http/client-ip.js";
import type { Metrics } from "../metrics/index.js";
import type { RateLimiter } from "../ratelimit/index.js";
import { createPollSchema, joinSchema, validate, voteSchema } from "./schemas.js";
import type { PollService } from "./service.js";

export interface PollRoutesOptions {
  polls: PollService;
  rateLimiter: RateLimiter;
  rateLimit: RateLimitConfig;
  trustProxyHops: number;
  metrics: Metrics;
}

/** The public JSON API under /api/polls (contract in the README). */
export function pollRoutes({
  polls,
  rateLimiter,
  rateLimit,
  trustProxyHops,
  metrics,
}: PollRoutesOptions): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  const limit =
    (bucket: "poll-create" | "join", max: number) =>
    async (c: Parameters<Parameters<typeof r.use>[1]>[0], next: () => Promise<void>) => {
      const ip = clientIp(c, trustProxyHops);
      const d = await rateLimiter.hit(`${bucket}:${ip}`, max, rateLimit.windowMs);
      if (!d.allowed)
        throw new AppError("RATE_LIMITED", "too many requests, slow down", { retryAfterMs: d.retryAfterMs });
      await next();
    };

  // Room-code guessing: unknown codes count against the client IP, and a client over the limit is refused
  // before the lookup, so probing stops answering whether a code exists.
  const guessGuard = async (c: Parameters<Parameters<typeof r.use>[1]>[0], next: () => Promise<void>) => {
    const key = `room-miss:${clientIp(c, trustProxyHops)}`;
    if (await rateLimiter.peek(key, rateLimit.roomMiss)) {
      throw new AppError("RATE_LIMITED", "too many unknown room codes, slow down", {
        retryAfterMs: rateLimit.windowMs,
      });
    }
    await next();
    if (c.error instanceof AppError && c.error.code === "POLL_NOT_FOUND")
      await rateLimiter.hit(key, rateLimit.roomMiss, rateLimit.windowMs);
  };
  r.use("/polls/:roomCode/*", guessGuard);

  r.post("/polls", limit("poll-create", rateLimit.pollCreate), async (c) => {
    const input = validate(createPollSchema, await readJson(c));
    return c.json(await polls.create(input), 201);
  });

  r.get("/polls/:roomCode", async (c) => c.json(await polls.get(c.req.param("roomCode"))));

  r.get("/polls/:roomCode/results", async (c) => c.json(await polls.results(c.req.param("roomCode"))));

  r.post("/polls/:roomCode/close", async (c) =>
    c.json(
      await polls.setStatus(c.req.param("roomCode"), bearerToken(c.req.header("authorization")), "closed"),
    ),
  );

  r.post("/polls/:roomCode/reopen", async (c) =>
    c.json(
      await polls.setStatus(c.req.param("roomCode"), bearerToken(c.req.header("authorization")), "open"),
    ),
  );

  r.delete("/polls/:roomCode", async (c) => {
    await polls.remove(c.req.param("roomCode"), bearerToken(c.req.header("authorization")));
    return c.body(null, 204);
  });

  r.post("/polls/:roomCode/participants", limit("join", rateLimit.join), async (c) => {
    const { nickname } = validate(joinSchema, await readJson(c));
    const joined = await polls.join(c.req.param("roomCode"), nickname);
    return c.json({ participantId: joined.participantId, participantToken: joined.participantToken }, 201);
  });

  r.post("/polls/:roomCode/votes", async (c) => {
    try {
      const token = bearerToken(c.req.header("authorization"));
      const { optionIndex } = validate(voteSchema, await readJson(c));
      const result = await polls.voteByToken(c.req.param("roomCode"), token, optionIndex);
      metrics.votesAccepted.inc({ transport: "http" });
      return c.json(result);
    } catch (err) {
      metrics.votesRejected.inc({ transport: "http", code: toClientError(err).code });
      throw err;
    }
  });

  return r;
}
