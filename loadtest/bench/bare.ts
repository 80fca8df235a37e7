import { createServer } from "node:http";
import { serve } from "@hono/node-server";
import { createAdapter } from "@socket.io/redis-adapter";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { Server } from "socket.io";

/**
 * Baselines for the benchmark, each the least a server must do for the same client work:
 *   hono <json>          GET /api/polls/:code/results returns the given JSON (no database, no cache)
 *   socketio [redisUrl]  socket.io with Zephyr's settings; join-poll joins one room and acks a join-sized
 *                        payload; relay broadcasts to the room (through the redis adapter when given)
 * Prints {"port":N} once listening; /heap returns process.memoryUsage().
 */

const [mode, arg] = process.argv.slice(2);

function ready(port: number) {
  process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`);
}

if (mode === "hono") {
  const body = JSON.parse(arg ?? "{}");
  const app = new Hono();
  app.get("/api/polls/:code/results", (c) => c.json(body));
  app.get("/heap", (c) => c.json(process.memoryUsage()));
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => ready(info.port));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
} else if (mode === "socketio") {
  const http = createServer((req, res) => {
    if (req.url === "/heap") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(process.memoryUsage()));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  const io = new Server(http, {
    transports: ["websocket"],
    maxHttpBufferSize: 16384,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    serveClient: false,
  });
  if (arg) {
    const pub = new Redis(arg);
    const sub = pub.duplicate();
    io.adapter(createAdapter(pub, sub, { key: "bare" }));
  }
  let n = 0;
  io.on("connection", (socket) => {
    socket.on("join-poll", (p: { roomCode: string }, ack?: (r: unknown) => void) => {
      socket.join(`room:${p.roomCode}`);
      const id = ++n;
      ack?.({
        ok: true,
        data: {
          participantId: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
          participantToken: `zpp_${"x".repeat(43)}`,
          nickname: `p${id}`,
          poll: { roomCode: p.roomCode, question: "bench", options: ["a", "b", "c", "d"], status: "open" },
          results: { roomCode: p.roomCode, counts: [0, 0, 0, 0], total: 0, participants: id, seq: 0 },
          yourVote: null,
        },
      });
    });
    socket.on("relay", (p: { k: number; roomCode?: string }, ack?: (r: unknown) => void) => {
      io.to(`room:${p.roomCode ?? "bench"}`).emit("relay", p);
      ack?.({ ok: true });
    });
  });
  http.listen(0, "127.0.0.1", () => ready((http.address() as { port: number }).port));
  process.on("SIGTERM", () => io.close(() => process.exit(0)));
} else {
  process.stderr.write("usage: bare.ts hono <json> | socketio [redisUrl]\n");
  process.exit(2);
}
