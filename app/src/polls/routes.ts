import { Hono } from "hono";
import { AppError } from "../errors/index.js";
import { type AppEnv, bearerToken, readJson } from "../http/app.js";
import { clientIp } from "../http/client-ip.js";
import type { RateLimiter } from "../ratelimit/index.js";
import { createPollSchema, joinSchema, validate, voteSchema } from "./schemas.js";
import type { PollService } from "./service.js";

export interface PollRoutesOptions {
  polls: PollService;
  rateLimiter: RateLimiter;
  rateLimit: { windowMs: number; pollCreate: number; join: number };
  trustProxyHops: number;
}

/** The public JSON API under /api/polls (contract in the README). */
export function pollRoutes({
  polls,
  rateLimiter,
  rateLimit,
  trustProxyHops,
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
    const token = bearerToken(c.req.header("authorization"));
    const { optionIndex } = validate(voteSchema, await readJson(c));
    return c.json(await polls.vote(c.req.param("roomCode"), token, optionIndex));
  });

  return r;
}
