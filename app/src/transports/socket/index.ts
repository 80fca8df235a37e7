import type { Server as HttpServer } from "node:http";
import type { Config } from "../../config/index.js";
import type { Logger } from "../../logging/index.js";
import type { Metrics } from "../../metrics/index.js";
import type { Presence } from "../../presence/index.js";
import type { Results } from "../../results/index.js";
import type { UseCases } from "../../usecases/index.js";
import { clientAddress } from "../client-address.js";
import { createDispatch } from "./dispatch.js";
import { drainSockets, shedOne } from "./drain.js";
import { registerHandlers } from "./handlers.js";
import { createIO, type IO } from "./io.js";
import { roomFeed, watchRooms } from "./room-feed.js";

export interface SocketTransport {
  io: IO;
  connections(): number;
  drain(windowMs: number): Promise<void>;
  /** Closes one participant connection at random (transport close: the client reconnects and re-joins). */
  shedOne(): boolean;
  /** Connections shed, and shed participants that re-joined on this same instance within seconds. */
  shedOutcome(): { shed: number; returned: number };
  close(): Promise<void>;
}

/** The Socket.IO transport: connections, the four client events, and room updates from the results module. */
export function createSocketTransport({
  httpServer,
  socket,
  corsOrigins,
  trustProxyHops,
  useCases,
  results,
  presence,
  metrics,
  logger,
  isDraining,
  adapter,
}: {
  httpServer: HttpServer;
  socket: Config["socket"];
  corsOrigins: string[];
  trustProxyHops: number;
  useCases: UseCases;
  results: Results;
  presence: Presence;
  metrics: Metrics;
  logger: Logger;
  isDraining: () => boolean;
  adapter?: Parameters<typeof createIO>[0]["adapter"];
}): SocketTransport {
  const io = createIO({ httpServer, socket, corsOrigins, isDraining, adapter });
  if (adapter) {
    io.of("/").adapter.on("error", (err: Error) => {
      metrics.redisErrors.inc({ client: "adapter" });
      logger.warn({ err: { message: err.message } }, "socket.io adapter error");
    });
  }
  const unsubscribe = results.subscribe(roomFeed(io, metrics));
  watchRooms(io, results);
  const on = createDispatch({ metrics, logger });
  // Shed participants by id, to notice them coming straight back (an affinity in front undoes rebalancing).
  const recentlyShed = new Map<string, number>();
  const outcome = { shed: 0, returned: 0 };
  const participantEntered = (participantId: string) => {
    const at = recentlyShed.get(participantId);
    if (at === undefined) return;
    recentlyShed.delete(participantId);
    // A client bounced back by an affinity re-joins within a reconnect delay; one that came back after being
    // moved on by another instance's shedding took longer and is not counted.
    if (Date.now() - at < 5_000) outcome.returned++;
  };

  io.on("connection", (s) => {
    s.data.ip = clientAddress(s.request.headers["x-forwarded-for"], s.handshake.address, trustProxyHops);
    metrics.websocketConnections.inc();
    s.on("disconnect", () => metrics.websocketConnections.dec());
    registerHandlers({ socket: s, on, useCases, presence, onParticipantEnter: participantEntered });
  });

  return {
    io,
    connections: () => io.of("/").sockets.size,
    drain: (windowMs) => drainSockets(io, windowMs),
    shedOne: () => {
      const s = shedOne(io);
      if (!s) return false;
      outcome.shed++;
      if (s.data.participantId) {
        if (recentlyShed.size >= 10_000) recentlyShed.delete(recentlyShed.keys().next().value as string);
        recentlyShed.set(s.data.participantId, Date.now());
      }
      return true;
    },
    shedOutcome: () => ({ ...outcome }),
    async close() {
      unsubscribe();
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
      });
    },
  };
}
