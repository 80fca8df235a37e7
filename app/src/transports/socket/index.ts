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

  io.on("connection", (s) => {
    s.data.ip = clientAddress(s.request.headers["x-forwarded-for"], s.handshake.address, trustProxyHops);
    metrics.websocketConnections.inc();
    s.on("disconnect", () => metrics.websocketConnections.dec());
    registerHandlers({ socket: s, on, useCases, presence });
  });

  return {
    io,
    connections: () => io.of("/").sockets.size,
    drain: (windowMs) => drainSockets(io, windowMs),
    shedOne: () => shedOne(io),
    async close() {
      unsubscribe();
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
      });
    },
  };
}
