import { Readable } from "node:stream";
import { getConnInfo } from "@hono/node-server/conninfo";
import { type Context, Hono } from "hono";
import { originalShape } from "../../domain/poll.js";
import { asObject } from "../../usecases/caller.js";
import type { Caller, UseCases } from "../../usecases/index.js";
import { clientAddress } from "../client-address.js";
import { type AppEnv, bearerToken, readJson } from "./app.js";
import { csvOf } from "./csv.js";

/**
 * The public JSON API under /api/polls. Each route only translates: path, bearer token and body become the
 * use case's input, its result becomes the response (errors are mapped by the app's onError).
 */
export function pollRoutes({ useCases, trustProxyHops }: { useCases: UseCases; trustProxyHops: number }) {
  const r = new Hono<AppEnv>();

  const caller = (c: Context<AppEnv>): Caller => {
    let peer: string | undefined;
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      peer = undefined;
    }
    return {
      transport: "http",
      address: clientAddress(c.req.header("x-forwarded-for"), peer, trustProxyHops),
    };
  };
  const body = async (c: Context<AppEnv>) => asObject(await readJson(c), "request body");
  const room = (c: Context<AppEnv>) => ({ roomCode: c.req.param("roomCode") });
  const host = (c: Context<AppEnv>) => ({
    ...room(c),
    hostToken: bearerToken(c.req.header("authorization")),
  });

  r.post("/polls", async (c) => c.json(await useCases.createPoll(caller(c), await body(c)), 201));

  r.get("/polls/:roomCode", async (c) => c.json(await useCases.read.poll(caller(c), room(c))));

  r.get("/polls/:roomCode/results", async (c) => {
    const question = c.req.query("question");
    const hostToken = bearerToken(c.req.header("authorization"));
    const live = await useCases.read.results(caller(c), {
      ...room(c),
      ...(question === undefined ? {} : { questionIndex: indexOf(question) }),
      ...(hostToken === undefined ? {} : { hostToken }),
    });
    return c.json(question === undefined && hostToken === undefined ? originalShape(live) : live);
  });

  // Streamed: rows leave as they are read, so a large live poll exports in constant memory.
  r.get("/polls/:roomCode/export.csv", async (c) => {
    const { roomCode, rows } = await useCases.host.exportAnswers(caller(c), host(c));
    return new Response(Readable.toWeb(csvOf(rows)) as ReadableStream, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="zephyr-${roomCode}.csv"`,
        "cache-control": "no-store",
      },
    });
  });

  const onQuestion = (c: Context<AppEnv>) => ({ ...host(c), questionIndex: indexOf(c.req.param("index")) });

  r.post("/polls/:roomCode/questions/:index/activate", async (c) =>
    c.json(await useCases.host.activate(caller(c), onQuestion(c))),
  );

  r.post("/polls/:roomCode/questions/:index/results/hide", async (c) =>
    c.json(await useCases.host.setResultsHidden(caller(c), onQuestion(c), true)),
  );

  r.post("/polls/:roomCode/questions/:index/results/reveal", async (c) =>
    c.json(await useCases.host.setResultsHidden(caller(c), onQuestion(c), false)),
  );

  for (const action of ["approve", "remove"] as const)
    r.post(`/polls/:roomCode/questions/:index/answers/:answerId/${action}`, async (c) =>
      c.json(
        await useCases.host.moderate(
          caller(c),
          { ...onQuestion(c), answerId: c.req.param("answerId") },
          action,
        ),
      ),
    );

  r.post("/polls/:roomCode/close", async (c) =>
    c.json(await useCases.host.setStatus(caller(c), host(c), "closed")),
  );

  r.post("/polls/:roomCode/reopen", async (c) =>
    c.json(await useCases.host.setStatus(caller(c), host(c), "open")),
  );

  r.delete("/polls/:roomCode", async (c) => {
    await useCases.host.remove(caller(c), host(c));
    return c.body(null, 204);
  });

  r.post("/polls/:roomCode/participants", async (c) => {
    const joined = await useCases.join(caller(c), { ...(await body(c)), ...room(c) });
    return c.json(
      { participantId: joined.participantId, participantToken: joined.participantToken },
      joined.created ? 201 : 200,
    );
  });

  r.post("/polls/:roomCode/votes", async (c) => {
    const participantToken = bearerToken(c.req.header("authorization"));
    const { receipt } = await useCases.vote(caller(c), {
      ...(await body(c)),
      ...room(c),
      participantToken,
    });
    return c.json(receipt);
  });

  return r;
}

/** A question position from the path or the query: digits become a number, anything else fails validation by name. */
const indexOf = (raw: string | undefined): unknown =>
  raw !== undefined && /^\d{1,3}$/.test(raw) ? Number(raw) : raw;
