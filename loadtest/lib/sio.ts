/**
 * Socket.IO v5 over Engine.IO v4, text framing only, over any WebSocket.
 *
 * This file must stay free of k6 and Node imports: the same code runs inside k6 (lib/socketio.ts), under Node
 * with the `ws` package (bench workers, tests), and is unit-tested against the real socket.io parsers.
 * Binary packets are rejected because Zephyr's contract is JSON only and a silent misparse would corrupt
 * latency figures.
 */

export const EngineType = {
  open: "0",
  close: "1",
  ping: "2",
  pong: "3",
  message: "4",
  upgrade: "5",
  noop: "6",
};
export const SocketType = { connect: 0, disconnect: 1, event: 2, ack: 3, connectError: 4 } as const;

export interface Handshake {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

export type Frame =
  | { kind: "open"; handshake: Handshake }
  | { kind: "close" }
  | { kind: "ping"; data: string }
  | { kind: "pong"; data: string }
  | { kind: "noop" }
  | { kind: "connect"; nsp: string; data: unknown }
  | { kind: "disconnect"; nsp: string }
  | { kind: "event"; nsp: string; id: number | undefined; name: string; args: unknown[] }
  | { kind: "ack"; nsp: string; id: number; args: unknown[] }
  | { kind: "connect_error"; nsp: string; data: unknown };

export class FramingError extends Error {
  constructor(
    message: string,
    readonly frame: string,
  ) {
    super(`${message}: ${frame.length > 120 ? `${frame.slice(0, 120)}…` : frame}`);
    this.name = "FramingError";
  }
}

function parseJson(text: string, frame: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new FramingError("invalid JSON payload", frame);
  }
}

/** Decodes one WebSocket text message (one Engine.IO packet; the websocket transport never batches). */
export function decodeFrame(frame: string): Frame {
  const type = frame.charAt(0);
  const rest = frame.slice(1);
  switch (type) {
    case EngineType.open: {
      const h = parseJson(rest, frame) as Partial<Handshake> | null;
      if (!h || typeof h.sid !== "string" || typeof h.pingInterval !== "number") {
        throw new FramingError("open packet without sid/pingInterval", frame);
      }
      return {
        kind: "open",
        handshake: {
          sid: h.sid,
          upgrades: Array.isArray(h.upgrades) ? h.upgrades : [],
          pingInterval: h.pingInterval,
          pingTimeout: typeof h.pingTimeout === "number" ? h.pingTimeout : 0,
          maxPayload: typeof h.maxPayload === "number" ? h.maxPayload : 0,
        },
      };
    }
    case EngineType.close:
      return { kind: "close" };
    case EngineType.ping:
      return { kind: "ping", data: rest };
    case EngineType.pong:
      return { kind: "pong", data: rest };
    case EngineType.noop:
      return { kind: "noop" };
    case EngineType.message:
      return decodeSocketPacket(rest, frame);
    default:
      throw new FramingError("unknown Engine.IO packet type", frame);
  }
}

function decodeSocketPacket(p: string, frame: string): Frame {
  const type = Number(p.charAt(0));
  if (p.length === 0 || !Number.isInteger(type)) throw new FramingError("empty Socket.IO packet", frame);
  if (type === 5 || type === 6) throw new FramingError("binary Socket.IO packets are not supported", frame);
  let i = 1;
  let nsp = "/";
  if (p.charAt(i) === "/") {
    const comma = p.indexOf(",", i);
    const end = comma === -1 ? p.length : comma;
    nsp = p.slice(i, end);
    i = comma === -1 ? p.length : comma + 1;
  }
  let idText = "";
  while (i < p.length && p.charCodeAt(i) >= 48 && p.charCodeAt(i) <= 57) idText += p.charAt(i++);
  const id = idText === "" ? undefined : Number(idText);
  const body = p.slice(i);
  const payload = body === "" ? undefined : parseJson(body, frame);
  switch (type) {
    case SocketType.connect:
      return { kind: "connect", nsp, data: payload };
    case SocketType.disconnect:
      return { kind: "disconnect", nsp };
    case SocketType.connectError:
      return { kind: "connect_error", nsp, data: payload };
    case SocketType.event: {
      if (!Array.isArray(payload) || typeof payload[0] !== "string") {
        throw new FramingError("event packet without [name, ...args]", frame);
      }
      return { kind: "event", nsp, id, name: payload[0], args: payload.slice(1) };
    }
    case SocketType.ack: {
      if (id === undefined || !Array.isArray(payload))
        throw new FramingError("ack packet without id/args", frame);
      return { kind: "ack", nsp, id, args: payload };
    }
    default:
      throw new FramingError("unknown Socket.IO packet type", frame);
  }
}

const nspPart = (nsp: string) => (nsp === "/" ? "" : `${nsp},`);

export function encodeConnect(nsp = "/", auth?: Record<string, unknown>): string {
  return `40${nspPart(nsp)}${auth === undefined ? "" : JSON.stringify(auth)}`;
}

export function encodeEvent(name: string, args: unknown[], id?: number, nsp = "/"): string {
  return `42${nspPart(nsp)}${id ?? ""}${JSON.stringify([name, ...args])}`;
}

export function encodeAck(id: number, args: unknown[], nsp = "/"): string {
  return `43${nspPart(nsp)}${id}${JSON.stringify(args)}`;
}

export const PING = EngineType.ping;
export const PONG = EngineType.pong;

/** http(s)://host[:port][/prefix] -> ws(s)://host[:port]/socket.io/?EIO=4&transport=websocket */
export function socketIoUrl(base: string, path = "/socket.io/"): string {
  const trimmed = base.replace(/\/+$/, "");
  const ws = trimmed.replace(/^http(s?):\/\//, "ws$1://");
  if (!/^wss?:\/\//.test(ws)) throw new Error(`not an http(s) or ws(s) URL: ${base}`);
  if (/\/socket\.io$/.test(ws)) return `${ws}/?EIO=4&transport=websocket`;
  if (/\/socket\.io\/\?/.test(ws)) return ws;
  return `${ws}${path}?EIO=4&transport=websocket`;
}

export type AckCallback = (err: Error | undefined, args: unknown[], rttMs: number) => void;

export interface SessionOptions {
  send(text: string): void;
  close(): void;
  now(): number;
  nsp?: string;
  auth?: Record<string, unknown>;
}

/**
 * The protocol state machine, transport-agnostic: feed it every received text message, it answers pings,
 * connects the namespace after the handshake, routes events and resolves acks.
 */
export class SocketIoSession {
  state: "opening" | "open" | "connected" | "closed" = "opening";
  handshake: Handshake | undefined;
  /** Socket.IO session id from the connect packet. */
  id: string | undefined;
  pingsAnswered = 0;
  framesIn = 0;
  framesOut = 0;
  onConnect: ((data: unknown) => void) | undefined;
  onConnectError: ((data: unknown) => void) | undefined;
  onClose: ((reason: string) => void) | undefined;
  onPing: (() => void) | undefined;
  private readonly handlers = new Map<string, Array<(...args: unknown[]) => void>>();
  private readonly pending = new Map<number, { cb: AckCallback; sentAt: number }>();
  private nextId = 0;
  private readonly nsp: string;

  constructor(private readonly opts: SessionOptions) {
    this.nsp = opts.nsp ?? "/";
  }

  on(event: string, handler: (...args: unknown[]) => void): this {
    const list = this.handlers.get(event) ?? [];
    list.push(handler);
    this.handlers.set(event, list);
    return this;
  }

  get pendingAcks(): number {
    return this.pending.size;
  }

  emit(event: string, payload?: unknown, ack?: AckCallback): void {
    if (this.state !== "connected") {
      ack?.(new Error(`cannot emit ${event}: session is ${this.state}`), [], 0);
      return;
    }
    const args = payload === undefined ? [] : [payload];
    let id: number | undefined;
    if (ack) {
      id = this.nextId++;
      this.pending.set(id, { cb: ack, sentAt: this.opts.now() });
    }
    this.out(encodeEvent(event, args, id, this.nsp));
  }

  /** Fails acks older than timeoutMs; call it from a timer. */
  expire(timeoutMs: number): number {
    const now = this.opts.now();
    let n = 0;
    for (const [id, p] of this.pending) {
      if (now - p.sentAt >= timeoutMs) {
        this.pending.delete(id);
        n++;
        p.cb(new Error(`ack ${id} timed out after ${timeoutMs} ms`), [], now - p.sentAt);
      }
    }
    return n;
  }

  receive(text: string): void {
    this.framesIn++;
    const f = decodeFrame(text);
    switch (f.kind) {
      case "open":
        this.handshake = f.handshake;
        this.state = "open";
        this.out(encodeConnect(this.nsp, this.opts.auth));
        return;
      case "ping":
        this.pingsAnswered++;
        this.out(PONG + f.data);
        this.onPing?.();
        return;
      case "pong":
      case "noop":
        return;
      case "close":
        this.closed("server close");
        return;
      case "connect":
        if (f.nsp !== this.nsp) return;
        this.state = "connected";
        this.id = (f.data as { sid?: string } | undefined)?.sid;
        this.onConnect?.(f.data);
        return;
      case "connect_error":
        if (f.nsp !== this.nsp) return;
        this.onConnectError?.(f.data);
        this.closed("connect error");
        this.opts.close();
        return;
      case "disconnect":
        if (f.nsp !== this.nsp) return;
        this.closed("server disconnect");
        this.opts.close();
        return;
      case "event": {
        if (f.nsp !== this.nsp) return;
        for (const h of this.handlers.get(f.name) ?? []) h(...f.args);
        return;
      }
      case "ack": {
        const p = this.pending.get(f.id);
        if (!p) return;
        this.pending.delete(f.id);
        p.cb(undefined, f.args, this.opts.now() - p.sentAt);
        return;
      }
    }
  }

  /** Transport closed underneath us: fail outstanding acks so callers never wait forever. */
  closed(reason: string): void {
    if (this.state === "closed") return;
    this.state = "closed";
    const now = this.opts.now();
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.cb(new Error(`connection closed (${reason})`), [], now - p.sentAt);
    }
    this.onClose?.(reason);
  }

  private out(text: string): void {
    this.framesOut++;
    this.opts.send(text);
  }
}
