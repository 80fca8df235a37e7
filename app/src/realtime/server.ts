import type { Server as HttpServer, IncomingMessage } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import { Server as IOServer, type Socket } from "socket.io";
import type { Config } from "../config/index.js";
import { AppError, toClientError } from "../errors/index.js";
import type { Logger } from "../logging/index.js";
import type { Metrics } from "../metrics/index.js";
import { validate } from "../polls/schemas.js";
import { type PollService, toView } from "../polls/service.js";
import { normalizeRoomCode } from "../polls/tokens.js";
import type { RateLimiter } from "../ratelimit/index.js";
import type { SessionStore } from "../sessions/index.js";
import type { ResultsSnapshot } from "../votes/writer.js";
import { createBroadcaster } from "./broadcaster.js";
import {
  type Ack,
  type ClientToServerEvents,
  hostJoinSchema,
  type InterServerEvents,
  joinPollSchema,
  type LiveResults,
  leavePollSchema,
  roomOf,
  type ServerToClientEvents,
  type SocketData,
  submitVoteSchema,
} from "./contract.js";

type IO = IOServer<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type ZSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface RealtimeOptions {
  httpServer: HttpServer;
  config: Config;
  polls: PollService;
  sessions: SessionStore;
  rateLimiter: RateLimiter;
  metrics: Metrics;
  logger: Logger;
  isDraining: () => boolean;
  /** Redis pub/sub clients for the cross-instance adapter; absent = in-memory adapter (one instance). */
  adapterClients?: { pub: Redis; sub: Redis };
  /** Snapshots committed by other instances (e.g. to keep a results cache current). */
  onRemoteSnapshot?: (snapshot: ResultsSnapshot) => void;
}

export interface Realtime {
  io: IO;
  usingRedisAdapter: boolean;
  connections(): number;
  /** Called by the vote writer after each committed batch. */
  resultsCommitted(snapshot: ResultsSnapshot): void;
  statusChanged(e: { pollId: string; roomCode: string; status: "open" | "closed" | "deleted" }): void;
  /** Closes client transports in jittered batches over windowMs so clients reconnect elsewhere. */
  drain(windowMs: number): Promise<void>;
  close(): Promise<void>;
}

const live = (s: ResultsSnapshot): LiveResults => ({
  roomCode: s.roomCode,
  counts: s.counts,
  total: s.total,
  participants: s.participants,
  seq: s.seq,
});

function clientAddress(req: IncomingMessage, fallback: string, trustedHops: number): string {
  if (trustedHops <= 0) return fallback;
  const xff = req.headers["x-forwarded-for"];
  const hops = (Array.isArray(xff) ? xff.join(",") : (xff ?? ""))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return hops[Math.max(0, hops.length - trustedHops)] ?? fallback;
}

/**
 * The adapter publishes without handling the returned promise; while Redis is down ioredis rejects those
 * (after its retries) and each rejection would be unhandled. Failed publishes are counted and dropped: the
 * periodic results resync heals whatever they carried.
 */
function safePublisher(pub: Redis, metrics: Metrics): Redis {
  const publish = pub.publish.bind(pub) as (...args: unknown[]) => Promise<number>;
  const guarded = (...args: unknown[]) =>
    publish(...args).catch(() => {
      metrics.redisErrors.inc({ client: "adapter-publish" });
      return 0;
    });
  return new Proxy(pub, {
    get: (target, prop, receiver) => (prop === "publish" ? guarded : Reflect.get(target, prop, receiver)),
  });
}

export function createRealtime({
  httpServer,
  config,
  polls,
  sessions,
  rateLimiter,
  metrics,
  logger,
  isDraining,
  adapterClients,
  onRemoteSnapshot,
}: RealtimeOptions): Realtime {
  const io: IO = new IOServer(httpServer, {
    transports: config.socket.transports,
    maxHttpBufferSize: config.socket.maxPayloadBytes,
    pingInterval: config.socket.pingIntervalMs,
    pingTimeout: config.socket.pingTimeoutMs,
    serveClient: false,
    cors:
      config.corsOrigins.length > 0
        ? { origin: config.corsOrigins.includes("*") ? "*" : config.corsOrigins }
        : undefined,
    // A draining instance refuses new sessions so reconnecting clients land on another pod.
    allowRequest: (_req, cb) => cb(isDraining() ? "draining" : null, !isDraining()),
  });

  if (adapterClients) {
    io.adapter(
      createAdapter(safePublisher(adapterClients.pub, metrics), adapterClients.sub, {
        key: config.redis?.keyPrefix ?? "zephyr",
        requestsTimeout: 3000,
      }),
    );
    io.of("/").adapter.on("error", (err: Error) => {
      metrics.redisErrors.inc({ client: "adapter" });
      logger.warn({ err: { message: err.message } }, "socket.io adapter error");
    });
  }

  const broadcaster = createBroadcaster({
    intervalMs: config.broadcastIntervalMs,
    emit(snapshot, oldestVoteAt) {
      const room = roomOf(snapshot.pollId);
      const members = io.of("/").adapter.rooms.get(room)?.size ?? 0;
      if (members === 0) return;
      io.local.to(room).emit("vote-update", live(snapshot));
      metrics.broadcastMessages.inc(members);
      if (oldestVoteAt !== undefined)
        metrics.voteBroadcastLatency.observe(Math.max(0, Date.now() - oldestVoteAt) / 1000);
    },
  });

  io.on("results", (snapshot) => {
    onRemoteSnapshot?.(snapshot);
    broadcaster.offer(snapshot);
  });

  const limited = async (key: string, limit: number, windowMs: number) => {
    const d = await rateLimiter.hit(key, limit, windowMs);
    if (!d.allowed)
      throw new AppError("RATE_LIMITED", "too many requests, slow down", { retryAfterMs: d.retryAfterMs });
  };

  const rl = config.rateLimit;

  function on<P>(
    socket: ZSocket,
    event: keyof ClientToServerEvents,
    parse: (raw: unknown) => P,
    handler: (payload: P) => Promise<unknown>,
    { ackRequired = true } = {},
  ) {
    socket.on(event, (...args: unknown[]) => {
      metrics.socketEvents.inc({ event });
      const ack =
        typeof args[args.length - 1] === "function" ? (args.pop() as (r: Ack<unknown>) => void) : undefined;
      if (!ack && ackRequired) {
        // Without a callback nobody could learn the outcome; doing the work anyway would only invite floods.
        metrics.socketEvents.inc({ event: "dropped-no-ack" });
        return;
      }
      const respond = (r: Ack<unknown>) => {
        try {
          ack?.(r);
        } catch {
          // the client is gone; nothing to tell
        }
      };
      (async () => handler(parse(args[0])))().then(
        (data) => respond({ ok: true, data }),
        (err: unknown) => {
          const e = toClientError(err);
          if (e.code === "INTERNAL") logger.error({ err, event }, "socket handler failed");
          if (event === "submit-vote") metrics.votesRejected.inc({ transport: "socket", code: e.code });
          respond({ ok: false, error: e.toBody() });
        },
      );
    });
  }

  async function findPollGuarded(socket: ZSocket, rawCode: string) {
    const ip = socket.data.ip;
    if (await rateLimiter.peek(`room-miss:${ip}`, rl.roomMiss)) {
      throw new AppError("RATE_LIMITED", "too many unknown room codes, slow down");
    }
    const code = normalizeRoomCode(rawCode);
    try {
      if (!code) throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
      return await polls.find(code);
    } catch (err) {
      if (err instanceof AppError && err.code === "POLL_NOT_FOUND")
        await rateLimiter.hit(`room-miss:${ip}`, rl.roomMiss, rl.windowMs);
      throw err;
    }
  }

  async function enterRoom(socket: ZSocket, pollId: string) {
    const room = roomOf(pollId);
    for (const r of socket.rooms) if (r !== socket.id && r !== room) await socket.leave(r);
    await socket.join(room);
  }

  io.on("connection", (socket) => {
    socket.data.ip = clientAddress(socket.request, socket.handshake.address, config.trustProxyHops);
    metrics.websocketConnections.inc();
    socket.on("disconnect", () => {
      metrics.websocketConnections.dec();
      const id = socket.data.participantId;
      if (id)
        sessions
          .save({ participantId: id, socketId: "", lastSeen: Date.now() })
          .catch(() => metrics.redisErrors.inc({ client: "sessions" }));
    });

    on(
      socket,
      "join-poll",
      (raw) => validate(joinPollSchema, raw),
      async (payload) => {
        await limited(`join:${socket.data.ip}`, rl.join, rl.windowMs);
        const poll = await findPollGuarded(socket, payload.roomCode);
        let participantId: string;
        let participantToken: string;
        let nickname: string;
        let yourVote: number | null = null;
        if (payload.participantToken) {
          // Identity is the participant, not the socket: the same token restores it on any instance.
          const participant = await polls.authenticate(poll, payload.participantToken);
          participantId = participant.id;
          participantToken = payload.participantToken;
          nickname = participant.nickname;
          yourVote = (await polls.voteOf(poll, participant.id)) ?? null;
        } else {
          const joined = await polls.join(poll.roomCode, payload.nickname as string);
          participantId = joined.participantId;
          participantToken = joined.participantToken;
          nickname = payload.nickname as string;
        }
        await enterRoom(socket, poll.id);
        socket.data.pollId = poll.id;
        socket.data.roomCode = poll.roomCode;
        socket.data.participantId = participantId;
        socket.data.role = "participant";
        socket.data.optionCount = poll.options.length;
        const snapshot = await polls.snapshot(poll);
        // Announce only what the room may not have seen; a fresh poll (seq 0) has nothing to announce, and
        // spending the leading edge on it would delay the first real vote.
        if (snapshot.seq > 0) broadcaster.offer(snapshot);
        sessions
          .save({
            participantId,
            pollId: poll.id,
            nickname,
            socketId: socket.id,
            voteIndex: yourVote,
            lastSeen: Date.now(),
          })
          .catch(() => metrics.redisErrors.inc({ client: "sessions" }));
        return {
          participantId,
          participantToken,
          nickname,
          poll: toView(poll),
          results: live(snapshot),
          yourVote,
        };
      },
    );

    on(
      socket,
      "submit-vote",
      (raw) => validate(submitVoteSchema, raw),
      async ({ optionIndex }) => {
        const { participantId, pollId, roomCode, optionCount } = socket.data;
        if (!participantId || !pollId || !roomCode || optionCount === undefined) {
          throw new AppError("NOT_JOINED", "join a poll (join-poll) before voting");
        }
        await limited(`vote:${participantId}`, rl.vote, rl.voteWindowMs);
        await polls.vote({ id: pollId, roomCode, optionCount }, participantId, optionIndex);
        metrics.votesAccepted.inc({ transport: "socket" });
        sessions
          .save({ participantId, voteIndex: optionIndex, lastSeen: Date.now() })
          .catch(() => metrics.redisErrors.inc({ client: "sessions" }));
        return { optionIndex };
      },
    );

    on(
      socket,
      "leave-poll",
      (raw) => validate(leavePollSchema, raw),
      async () => {
        const pollId = socket.data.pollId;
        if (pollId) await socket.leave(roomOf(pollId));
        const left = Boolean(pollId);
        socket.data = { ip: socket.data.ip };
        return { left };
      },
      { ackRequired: false },
    );

    on(
      socket,
      "host-join",
      (raw) => validate(hostJoinSchema, raw),
      async ({ roomCode, hostToken }) => {
        const poll = await findPollGuarded(socket, roomCode);
        polls.requireHost(poll, hostToken);
        await enterRoom(socket, poll.id);
        socket.data = { ip: socket.data.ip, pollId: poll.id, roomCode: poll.roomCode, role: "host" };
        const snapshot = await polls.snapshot(poll);
        if (snapshot.seq > 0) broadcaster.offer(snapshot);
        return { poll: toView(poll), results: live(snapshot) };
      },
    );
  });

  // Heals what a lost notification (Redis restart, dropped message) would leave stale: rooms with members
  // here re-read their results_version and emit when it moved.
  let resyncRunning = false;
  const resync =
    config.resultsResyncMs > 0
      ? setInterval(async () => {
          if (resyncRunning) return;
          resyncRunning = true;
          try {
            const pollIds = [...io.of("/").adapter.rooms.keys()]
              .filter((r) => r.startsWith("poll:"))
              .map((r) => r.slice(5));
            if (pollIds.length === 0) return;
            for (const v of await polls.versions(pollIds)) {
              if (v.seq > broadcaster.emittedSeq(v.pollId))
                broadcaster.offer(await polls.snapshot({ id: v.pollId, roomCode: v.roomCode }));
            }
          } catch (err) {
            logger.warn({ err: { message: (err as Error).message } }, "results resync failed");
          } finally {
            resyncRunning = false;
          }
        }, config.resultsResyncMs)
      : undefined;
  resync?.unref();

  return {
    io,
    usingRedisAdapter: Boolean(adapterClients),
    connections: () => io.of("/").sockets.size,
    resultsCommitted(snapshot) {
      // Other instances update their own members; this one does it directly (no Redis round trip).
      if (adapterClients) io.serverSideEmit("results", snapshot);
      broadcaster.offer(snapshot);
    },
    statusChanged({ pollId, roomCode, status }) {
      const room = roomOf(pollId);
      io.to(room).emit("poll-state", { roomCode, status });
      if (status === "deleted") io.in(room).socketsLeave(room);
    },
    async drain(windowMs) {
      const sockets = [...io.of("/").sockets.values()];
      if (sockets.length === 0) return;
      // Shuffled batches with jitter: reconnecting clients arrive at the other pods spread out, not as a herd.
      for (let i = sockets.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [sockets[i], sockets[j]] = [sockets[j] as ZSocket, sockets[i] as ZSocket];
      }
      const batches = Math.max(1, Math.min(20, Math.ceil(sockets.length / 50)));
      const per = Math.ceil(sockets.length / batches);
      const step = batches > 1 ? windowMs / batches : 0;
      for (let b = 0; b < batches; b++) {
        for (const s of sockets.slice(b * per, (b + 1) * per)) {
          // A transport close, not socket.disconnect(): the client sees "transport close" and reconnects by
          // itself, whereas a server-side disconnect tells it to stay away.
          if (s.connected) s.conn.close();
        }
        if (b < batches - 1) await new Promise((r) => setTimeout(r, step * (0.5 + Math.random())));
      }
    },
    async close() {
      if (resync) clearInterval(resync);
      broadcaster.close();
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
      });
    },
  };
}
