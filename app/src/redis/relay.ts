import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Relay, RelayMessage } from "../results/relay.js";

/**
 * Room news over one Redis pub/sub channel. Messages carry the sender's id so an instance ignores its own:
 * it has already delivered them locally. A publish that fails (Redis down) is counted and dropped; the results
 * resync heals what it carried.
 */
export function createRedisRelay({
  pub,
  sub,
  channel,
  onError,
}: {
  pub: Redis;
  /** A connection of its own: a subscribed connection can do nothing else. */
  sub: Redis;
  channel: string;
  onError?: (err: unknown) => void;
}): Relay {
  const origin = randomUUID();
  let handler: ((message: RelayMessage) => void) | undefined;
  sub.subscribe(channel).catch((err) => onError?.(err));
  sub.on("message", (ch: string, text: string) => {
    if (ch !== channel || !handler) return;
    try {
      const { from, message } = JSON.parse(text) as { from: string; message: RelayMessage };
      if (from !== origin) handler(message);
    } catch (err) {
      onError?.(err);
    }
  });
  return {
    publish(message) {
      pub.publish(channel, JSON.stringify({ from: origin, message })).catch((err) => onError?.(err));
    },
    onMessage(h) {
      handler = h;
    },
    async close() {
      await sub.unsubscribe(channel).catch(() => undefined);
    },
  };
}
