import type { Server as HttpServer } from "node:http";
import { Server as IOServer, type Socket } from "socket.io";
import type { Config } from "../../config/index.js";
import type {
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from "./contract.js";

export type IO = IOServer<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ZSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** The Socket.IO server on the HTTP server, with the cross-instance adapter when one is given. */
export function createIO({
  httpServer,
  socket,
  corsOrigins,
  isDraining,
  adapter,
}: {
  httpServer: HttpServer;
  socket: Config["socket"];
  corsOrigins: string[];
  isDraining: () => boolean;
  /** The Redis adapter; absent = socket.io's in-memory adapter (one instance). */
  adapter?: ReturnType<typeof import("../../redis/socket-adapter.js").redisSocketAdapter>;
}): IO {
  const io: IO = new IOServer(httpServer, {
    transports: socket.transports,
    maxHttpBufferSize: socket.maxPayloadBytes,
    pingInterval: socket.pingIntervalMs,
    pingTimeout: socket.pingTimeoutMs,
    serveClient: false,
    cors: corsOrigins.length > 0 ? { origin: corsOrigins.includes("*") ? "*" : corsOrigins } : undefined,
    // A draining instance refuses new sessions so reconnecting clients land on another pod.
    allowRequest: (_req, cb) => cb(isDraining() ? "draining" : null, !isDraining()),
  });
  if (adapter) io.adapter(adapter);
  return io;
}
