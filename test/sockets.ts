import { createConnection, createServer, type Socket as NetSocket, type Server } from "node:net";
import { io as ioClient, type Socket } from "socket.io-client";
import type {
  Ack,
  ClientToServerEvents,
  LiveResults,
  ServerToClientEvents,
} from "../app/src/transports/socket/contract.js";

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
export type LiveClient = Client & {
  updates: LiveResults[];
  updateTimes: number[];
  states: Array<{ roomCode: string; status: string; activeQuestion?: number }>;
};

/** A real socket.io-client, websocket-only unless told otherwise, with every vote-update recorded. */
export function connect(
  url: string,
  opts: { transports?: Array<"websocket" | "polling">; reconnection?: boolean; localAddress?: string } = {},
): Promise<LiveClient> {
  const socket = ioClient(url, {
    transports: opts.transports ?? ["websocket"],
    reconnection: opts.reconnection ?? true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 1000,
    timeout: 10_000,
    forceNew: true,
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  }) as LiveClient;
  socket.updates = [];
  socket.updateTimes = [];
  socket.states = [];
  socket.on("vote-update", (u) => {
    socket.updates.push(u);
    socket.updateTimes.push(Date.now());
  });
  socket.on("poll-state", (s) => socket.states.push(s));
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      if (!(opts.reconnection ?? true)) reject(err);
    });
    setTimeout(() => reject(new Error(`socket did not connect to ${url}`)), 15_000).unref();
  });
}

/** emitWithAck with a timeout, typed loosely for assertions. */
export async function call<T = any>(
  socket: Client,
  event: keyof ClientToServerEvents,
  payload?: unknown,
  timeoutMs = 10_000,
): Promise<Ack<T>> {
  return (await (socket.timeout(timeoutMs) as any).emitWithAck(event, payload)) as Ack<T>;
}

/**
 * A minimal TCP load balancer standing in for a Kubernetes Service: round-robin over backends, skipping
 * ones that refuse connections, so a client that loses its instance reconnects to another.
 */
export async function startTcpBalancer(
  backends: number[],
): Promise<{ port: number; url: string; close(): Promise<void>; setBackends(b: number[]): void }> {
  let list = [...backends];
  let next = 0;
  const open = new Set<NetSocket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    const tryBackend = (attempt: number) => {
      if (attempt >= list.length) return client.destroy();
      const port = list[next++ % list.length] as number;
      const upstream = createConnection({ port, host: "127.0.0.1" });
      upstream.once("connect", () => {
        client.pipe(upstream).pipe(client);
        open.add(upstream);
        upstream.on("close", () => {
          open.delete(upstream);
          client.destroy();
        });
        client.on("close", () => upstream.destroy());
      });
      upstream.once("error", () => {
        if (upstream.readyState === "opening" || !upstream.remoteAddress) tryBackend(attempt + 1);
        else client.destroy();
      });
    };
    client.on("error", () => undefined);
    tryBackend(0);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setBackends: (b) => {
      list = [...b];
    },
    close: () =>
      new Promise((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}
