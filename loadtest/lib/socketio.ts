import { clearInterval, setInterval } from "k6/timers";
import { WebSocket } from "k6/websockets";
import { type AckCallback, SocketIoSession, socketIoUrl } from "./sio.ts";

/** k6/websockets transport for the framing core: one Socket.IO client per call. */
export interface K6SocketIo {
  session: SocketIoSession;
  url: string;
  /** ms from constructing the WebSocket to the namespace connect packet, or -1 before that. */
  connectMs: number;
  emit(event: string, payload?: unknown, ack?: AckCallback): void;
  close(): void;
}

export function connectSocketIo(
  baseUrl: string,
  handlers: {
    onConnect(io: K6SocketIo): void;
    onError?(message: string): void;
    onClose?(reason: string): void;
    ackTimeoutMs?: number;
    tags?: Record<string, string>;
  },
): K6SocketIo {
  const url = socketIoUrl(baseUrl);
  const started = Date.now();
  const ws = new WebSocket(url, null, handlers.tags ? { tags: handlers.tags } : null);
  let closed = false;
  const session = new SocketIoSession({
    send: (text) => ws.send(text),
    close: () => shutdown(),
    now: () => Date.now(),
  });
  const client: K6SocketIo = {
    session,
    url,
    connectMs: -1,
    emit: (event, payload, ack) => session.emit(event, payload, ack),
    close: () => shutdown(),
  };
  // Acks that never come would otherwise keep the VU's event loop, and so the iteration, alive forever.
  const ackTimeout = handlers.ackTimeoutMs ?? 10_000;
  const sweeper = setInterval(() => session.expire(ackTimeout), Math.min(1000, ackTimeout));
  function shutdown() {
    if (closed) return;
    closed = true;
    clearInterval(sweeper);
    session.closed("client close");
    ws.close();
  }
  session.onConnect = () => {
    client.connectMs = Date.now() - started;
    handlers.onConnect(client);
  };
  session.onConnectError = (data) => handlers.onError?.(`connect_error ${JSON.stringify(data)}`);
  session.onClose = (reason) => handlers.onClose?.(reason);
  ws.onmessage = (e) => {
    if (!e || typeof e.data !== "string") return;
    try {
      session.receive(e.data);
    } catch (err) {
      handlers.onError?.(String(err));
      shutdown();
    }
  };
  ws.onerror = (e) => {
    handlers.onError?.(e?.error ?? "websocket error");
    shutdown();
  };
  ws.onclose = () => {
    if (!closed) {
      closed = true;
      clearInterval(sweeper);
      session.closed("transport closed");
    }
  };
  return client;
}
