import WebSocket from "ws";
import { type Handshake, SocketIoSession, socketIoUrl } from "../lib/sio.js";

/** The framing core over the `ws` package: what the benchmark workers and tests speak to Zephyr with. */
export interface WsSioClient {
  session: SocketIoSession;
  ws: WebSocket;
  handshake: Handshake;
  on(event: string, handler: (...args: unknown[]) => void): void;
  /** Resolves with the ack's arguments and round-trip ms; rejects on timeout or close. */
  call<T = unknown>(event: string, payload?: unknown, timeoutMs?: number): Promise<{ ack: T; rttMs: number }>;
  close(): void;
  closed: Promise<string>;
}

export const now = (): number => performance.timeOrigin + performance.now();

export function connectWsSio(
  baseUrl: string,
  opts: { localAddress?: string; timeoutMs?: number } = {},
): Promise<WsSioClient> {
  const ws = new WebSocket(socketIoUrl(baseUrl), {
    perMessageDeflate: false,
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  });
  const session = new SocketIoSession({
    send: (t) => ws.send(t),
    close: () => ws.close(),
    now,
  });
  let closedReason: (r: string) => void = () => undefined;
  const closed = new Promise<string>((r) => {
    closedReason = r;
  });
  session.onClose = (reason) => closedReason(reason);
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    try {
      session.receive(data.toString());
    } catch {
      ws.terminate();
    }
  });
  ws.on("close", () => session.closed("transport closed"));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`socket.io connect to ${baseUrl} timed out`));
    }, opts.timeoutMs ?? 15_000);
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    session.onConnectError = (d) => {
      clearTimeout(timer);
      reject(new Error(`connect_error ${JSON.stringify(d)}`));
    };
    session.onConnect = () => {
      clearTimeout(timer);
      resolve({
        session,
        ws,
        handshake: session.handshake as Handshake,
        on: (e, h) => void session.on(e, h),
        call: (event, payload, timeoutMs = 10_000) =>
          new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`${event} ack timed out`)), timeoutMs);
            session.emit(event, payload, (err, args, rttMs) => {
              clearTimeout(t);
              if (err) rej(err);
              else res({ ack: args[0] as never, rttMs });
            });
          }),
        close: () => ws.close(),
        closed,
      });
    };
  });
}
