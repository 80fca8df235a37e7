import { io, type Socket } from "socket.io-client";
import type {
  Ack,
  ClientToServerEvents,
  ServerToClientEvents,
} from "../../../src/transports/socket/contract.js";

/** An ack as the pages see it: the service's, or TIMEOUT when none came in time. */
export type Reply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

export type ZephyrSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * One connection to the service this page came from. WebSocket first: it needs no sticky sessions behind a load
 * balancer, so a reconnect after an instance dies lands on any other; long polling only where WebSocket is blocked.
 */
export const connect = (): ZephyrSocket =>
  io({ transports: ["websocket", "polling"], tryAllTransports: true, reconnectionDelayMax: 3000 });

const ACK_TIMEOUT_MS = 10_000;

type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type Data<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends
  | ((response: Ack<infer T>) => void)
  | undefined
  ? T
  : never;

/** Emits with an ack, turning a lost connection into an error ack instead of a promise that never settles. */
export async function request<E extends keyof ClientToServerEvents>(
  socket: ZephyrSocket,
  event: E,
  payload: Payload<E>,
): Promise<Reply<Data<E>>> {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: socket.io's emit typing does not follow a generic event name
    return (await (socket.timeout(ACK_TIMEOUT_MS) as any).emitWithAck(event, payload)) as Reply<Data<E>>;
  } catch {
    return { ok: false, error: { code: "TIMEOUT", message: "no acknowledgement" } };
  }
}
