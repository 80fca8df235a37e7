import { toClientError } from "../../domain/errors.js";
import type { Logger } from "../../logging/index.js";
import type { Metrics } from "../../metrics/index.js";
import type { Ack, ClientToServerEvents } from "./contract.js";
import type { ZSocket } from "./io.js";

/**
 * Registers one event: counts it, runs the handler with the payload, and answers the ack with
 * {ok:true,data} or {ok:false,error:{code,message}}, never a stack or internal detail.
 */
export function createDispatch({ metrics, logger }: { metrics: Metrics; logger: Logger }) {
  return function on(
    socket: ZSocket,
    event: keyof ClientToServerEvents,
    handler: (payload: unknown) => Promise<unknown>,
    { ackRequired = true } = {},
  ) {
    socket.on(event, (...args: unknown[]) => {
      metrics.socketEvents.inc({ event });
      const ack =
        typeof args[args.length - 1] === "function" ? (args.pop() as (r: Ack<unknown>) => void) : undefined;
      if (!ack && ackRequired) {
        // Without a callback nobody could learn the outcome; doing the work anyway would only invite floods.
        metrics.socketEvents.inc({ event: "dropped-no-ack" });
        return;
      }
      const respond = (r: Ack<unknown>) => {
        try {
          ack?.(r);
        } catch {
          // the client is gone; nothing to tell
        }
      };
      socket.data.lastSeen = Date.now();
      (async () => handler(args[0]))().then(
        (data) => respond({ ok: true, data }),
        (err: unknown) => {
          const e = toClientError(err);
          if (e.code === "INTERNAL") logger.error({ err, event }, "socket handler failed");
          respond({ ok: false, error: e.toBody() });
        },
      );
    });
  };
}
