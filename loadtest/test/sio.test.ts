import { decodePacket, encodePacket, type Packet } from "engine.io-parser";
import { Decoder, Encoder, PacketType } from "socket.io-parser";
import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  encodeAck,
  encodeConnect,
  encodeEvent,
  FramingError,
  SocketIoSession,
  socketIoUrl,
} from "../lib/sio.js";

/** The framing core against packets produced and parsed by the real socket.io / engine.io parsers. */

function engineFrame(p: Packet): string {
  let out: string | undefined;
  encodePacket(p, true, (encoded) => {
    out = encoded as string;
  });
  if (typeof out !== "string") throw new Error("engine.io-parser produced no text frame");
  return out;
}

function socketFrames(packet: Parameters<Encoder["encode"]>[0]): string[] {
  return new Encoder()
    .encode(packet)
    .map((s: unknown) => engineFrame({ type: "message", data: s as string }));
}

function decodeWithRealParser(frame: string): any {
  const engine = decodePacket(frame);
  expect(engine.type).toBe("message");
  const dec = new Decoder();
  let got: any;
  dec.on("decoded", (p: unknown) => {
    got = p;
  });
  dec.add(engine.data as string);
  return got;
}

describe("decodeFrame against engine.io-parser / socket.io-parser output", () => {
  it("open handshake", () => {
    const handshake = {
      sid: "abc",
      upgrades: [],
      pingInterval: 25000,
      pingTimeout: 20000,
      maxPayload: 16384,
    };
    const f = decodeFrame(engineFrame({ type: "open", data: JSON.stringify(handshake) }));
    expect(f).toEqual({ kind: "open", handshake });
  });

  it("ping, pong, close, noop", () => {
    expect(decodeFrame(engineFrame({ type: "ping" }))).toEqual({ kind: "ping", data: "" });
    expect(decodeFrame(engineFrame({ type: "ping", data: "probe" }))).toEqual({
      kind: "ping",
      data: "probe",
    });
    expect(decodeFrame(engineFrame({ type: "pong" }))).toEqual({ kind: "pong", data: "" });
    expect(decodeFrame(engineFrame({ type: "close" }))).toEqual({ kind: "close" });
    expect(decodeFrame(engineFrame({ type: "noop" }))).toEqual({ kind: "noop" });
  });

  it("connect with and without namespace", () => {
    const [a] = socketFrames({ type: PacketType.CONNECT, nsp: "/", data: { sid: "s1" } });
    expect(decodeFrame(a!)).toEqual({ kind: "connect", nsp: "/", data: { sid: "s1" } });
    const [b] = socketFrames({ type: PacketType.CONNECT, nsp: "/admin", data: { sid: "s2" } });
    expect(decodeFrame(b!)).toEqual({ kind: "connect", nsp: "/admin", data: { sid: "s2" } });
  });

  it("events without and with ack id, unicode and nested payloads", () => {
    const update = { roomCode: "K7QX2M", counts: [3, 0, 12], total: 15, participants: 20, seq: 41 };
    const [a] = socketFrames({ type: PacketType.EVENT, nsp: "/", data: ["vote-update", update] });
    expect(decodeFrame(a!)).toEqual({
      kind: "event",
      nsp: "/",
      id: undefined,
      name: "vote-update",
      args: [update],
    });
    const payload = { nickname: 'Zoë 🍕, "quoted"', nested: { a: [1, { b: null }] } };
    const [b] = socketFrames({ type: PacketType.EVENT, nsp: "/", id: 1234, data: ["join-poll", payload, 7] });
    expect(decodeFrame(b!)).toEqual({
      kind: "event",
      nsp: "/",
      id: 1234,
      name: "join-poll",
      args: [payload, 7],
    });
    const [c] = socketFrames({ type: PacketType.EVENT, nsp: "/room", id: 9, data: ["x"] });
    expect(decodeFrame(c!)).toEqual({ kind: "event", nsp: "/room", id: 9, name: "x", args: [] });
  });

  it("acks, including the {ok,data} and {ok,error} shapes", () => {
    const ok = { ok: true, data: { optionIndex: 2 } };
    const [a] = socketFrames({ type: PacketType.ACK, nsp: "/", id: 0, data: [ok] });
    expect(decodeFrame(a!)).toEqual({ kind: "ack", nsp: "/", id: 0, args: [ok] });
    const err = { ok: false, error: { code: "POLL_CLOSED", message: "closed" } };
    const [b] = socketFrames({ type: PacketType.ACK, nsp: "/", id: 987654, data: [err] });
    expect(decodeFrame(b!)).toEqual({ kind: "ack", nsp: "/", id: 987654, args: [err] });
  });

  it("connect errors and disconnect", () => {
    const [a] = socketFrames({
      type: PacketType.CONNECT_ERROR,
      nsp: "/",
      data: { message: "Not authorized" },
    });
    expect(decodeFrame(a!)).toEqual({ kind: "connect_error", nsp: "/", data: { message: "Not authorized" } });
    const [b] = socketFrames({ type: PacketType.DISCONNECT, nsp: "/" });
    expect(decodeFrame(b!)).toEqual({ kind: "disconnect", nsp: "/" });
  });

  it("rejects binary packets and garbage instead of misparsing them", () => {
    // The first part of a binary event is text; the attachments follow as binary frames.
    const [head] = new Encoder().encode({
      type: PacketType.EVENT,
      nsp: "/",
      data: ["bin", new Uint8Array([1, 2])],
    });
    const frame = engineFrame({ type: "message", data: head as string });
    expect(frame.startsWith("451-")).toBe(true);
    expect(() => decodeFrame(frame)).toThrow(FramingError);
    expect(() => decodeFrame("42[not json")).toThrow(/invalid JSON/);
    expect(() => decodeFrame("42{}")).toThrow(/event packet/);
    expect(() => decodeFrame("9")).toThrow(/unknown Engine.IO/);
    expect(() => decodeFrame("0{}")).toThrow(/open packet/);
    expect(() => decodeFrame("4")).toThrow(/empty Socket.IO/);
  });
});

describe("encoders are understood by socket.io-parser", () => {
  it("connect", () => {
    expect(decodeWithRealParser(encodeConnect())).toMatchObject({ type: PacketType.CONNECT, nsp: "/" });
    expect(decodeWithRealParser(encodeConnect("/admin", { token: "t" }))).toMatchObject({
      type: PacketType.CONNECT,
      nsp: "/admin",
      data: { token: "t" },
    });
  });

  it("events with and without ack id, and acks", () => {
    const payload = { roomCode: "ABCDEF", nickname: "Ann 🙂" };
    expect(decodeWithRealParser(encodeEvent("join-poll", [payload], 17))).toEqual({
      type: PacketType.EVENT,
      nsp: "/",
      id: 17,
      data: ["join-poll", payload],
    });
    expect(decodeWithRealParser(encodeEvent("leave-poll", [{}]))).toEqual({
      type: PacketType.EVENT,
      nsp: "/",
      data: ["leave-poll", {}],
    });
    expect(decodeWithRealParser(encodeEvent("x", [1], 3, "/n"))).toEqual({
      type: PacketType.EVENT,
      nsp: "/n",
      id: 3,
      data: ["x", 1],
    });
    expect(decodeWithRealParser(encodeAck(5, [{ ok: true }]))).toEqual({
      type: PacketType.ACK,
      nsp: "/",
      id: 5,
      data: [{ ok: true }],
    });
  });

  it("every encoded frame round-trips through our own decoder", () => {
    for (const frame of [
      encodeEvent("a", [{ b: [1, "2"] }], 42),
      encodeAck(0, [null]),
      encodeConnect("/x"),
    ]) {
      const ours = decodeFrame(frame);
      const theirs = decodeWithRealParser(frame);
      expect(ours.kind).toBe(["connect", "disconnect", "event", "ack"][theirs.type]);
    }
  });
});

describe("SocketIoSession state machine", () => {
  function session() {
    const sent: string[] = [];
    let now = 1000;
    let closes = 0;
    const s = new SocketIoSession({
      send: (t) => sent.push(t),
      close: () => closes++,
      now: () => now,
    });
    return { s, sent, advance: (ms: number) => (now += ms), closes: () => closes };
  }
  const open = engineFrame({
    type: "open",
    data: JSON.stringify({ sid: "e1", upgrades: [], pingInterval: 1000, pingTimeout: 500, maxPayload: 100 }),
  });
  const connected = socketFrames({ type: PacketType.CONNECT, nsp: "/", data: { sid: "s1" } })[0]!;

  it("connects the namespace after the handshake and answers pings", () => {
    const { s, sent } = session();
    let connectedWith: unknown;
    s.onConnect = (d) => {
      connectedWith = d;
    };
    s.receive(open);
    expect(sent).toEqual(["40"]);
    expect(s.state).toBe("open");
    s.receive(connected);
    expect(s.state).toBe("connected");
    expect(s.id).toBe("s1");
    expect(connectedWith).toEqual({ sid: "s1" });
    s.receive(engineFrame({ type: "ping" }));
    expect(sent.at(-1)).toBe("3");
    expect(s.pingsAnswered).toBe(1);
  });

  it("routes events and matches acks by id with their round-trip time", () => {
    const { s, sent, advance } = session();
    s.receive(open);
    s.receive(connected);
    const updates: unknown[] = [];
    s.on("vote-update", (u) => updates.push(u));
    const acks: Array<[unknown, number]> = [];
    s.emit("join-poll", { roomCode: "R" }, (err, args, rtt) => acks.push([err ?? args[0], rtt]));
    s.emit("submit-vote", { optionIndex: 1 }, (err, args, rtt) => acks.push([err ?? args[0], rtt]));
    expect(sent.slice(1)).toEqual([
      '420["join-poll",{"roomCode":"R"}]',
      '421["submit-vote",{"optionIndex":1}]',
    ]);
    advance(7);
    s.receive(socketFrames({ type: PacketType.ACK, nsp: "/", id: 1, data: [{ ok: true }] })[0]!);
    s.receive(socketFrames({ type: PacketType.EVENT, nsp: "/", data: ["vote-update", { seq: 1 }] })[0]!);
    advance(3);
    s.receive(socketFrames({ type: PacketType.ACK, nsp: "/", id: 0, data: [{ ok: false }] })[0]!);
    expect(acks).toEqual([
      [{ ok: true }, 7],
      [{ ok: false }, 10],
    ]);
    expect(updates).toEqual([{ seq: 1 }]);
    expect(s.pendingAcks).toBe(0);
  });

  it("expires acks that never come and fails pending acks on close", () => {
    const { s, advance } = session();
    s.receive(open);
    s.receive(connected);
    const errors: string[] = [];
    s.emit("a", {}, (err) => errors.push(String(err)));
    advance(100);
    s.emit("b", {}, (err) => errors.push(String(err)));
    advance(950);
    expect(s.expire(1000)).toBe(1);
    expect(errors).toEqual([expect.stringMatching(/ack 0 timed out/)]);
    s.closed("test");
    expect(errors[1]).toMatch(/connection closed \(test\)/);
    expect(s.state).toBe("closed");
  });

  it("refuses to emit before connect, and closes on connect_error", () => {
    const { s, closes } = session();
    const errs: string[] = [];
    s.emit("early", {}, (err) => errs.push(String(err)));
    expect(errs[0]).toMatch(/session is opening/);
    s.receive(open);
    let reported: unknown;
    s.onConnectError = (d) => {
      reported = d;
    };
    s.receive(socketFrames({ type: PacketType.CONNECT_ERROR, nsp: "/", data: { message: "no" } })[0]!);
    expect(reported).toEqual({ message: "no" });
    expect(s.state).toBe("closed");
    expect(closes()).toBe(1);
  });

  it("builds websocket URLs from service URLs", () => {
    expect(socketIoUrl("http://svc:4000/")).toBe("ws://svc:4000/socket.io/?EIO=4&transport=websocket");
    expect(socketIoUrl("https://z.example")).toBe("wss://z.example/socket.io/?EIO=4&transport=websocket");
    expect(socketIoUrl("ws://a/socket.io/")).toBe("ws://a/socket.io/?EIO=4&transport=websocket");
    expect(() => socketIoUrl("ftp://x")).toThrow();
  });
});
