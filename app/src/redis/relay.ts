import { randomUUID } from "node:crypto";
import { type Relay, type RelayMessage, roomOfMessage } from "../results/relay.js";
import type { RedisClient } from "./client.js";

/**
 * Room news over one Redis pub/sub channel per room, subscribed only while this instance watches the room.
 * On a Redis Cluster the channels are sharded (SPUBLISH/SSUBSCRIBE, Redis 7): a room's channel lives on the
 * shard owning its hash slot, so pub/sub load spreads over the primaries instead of every message going to
 * every node. Messages carry the sender's id so an instance ignores its own (it has already delivered them
 * locally). A publish that fails (Redis down, failover under way) is counted and dropped; the results resync
 * heals what it carried.
 */
export function createRedisRelay({
  pub,
  sub,
  channelPrefix,
  sharded,
  onError,
  onReceived,
  onPublished,
}: {
  pub: RedisClient;
  /** A connection of its own: a subscribed connection can do nothing else. */
  sub: RedisClient;
  /** Each room's channel is `${channelPrefix}{pollId}`: the braces make the poll id the hash tag. */
  channelPrefix: string;
  /** SPUBLISH/SSUBSCRIBE (Redis Cluster) instead of PUBLISH/SUBSCRIBE. */
  sharded: boolean;
  onError?: (err: unknown) => void;
  /** Every message this instance's subscriptions delivered: from another instance, or its own echo. */
  onReceived?: (from: "peer" | "self") => void;
  onPublished?: () => void;
}): Relay {
  const origin = randomUUID();
  const channelOf = (pollId: string) => `${channelPrefix}{${pollId}}`;
  const watched = new Set<string>();
  let handler: ((message: RelayMessage) => void) | undefined;
  const receive = (channel: string, text: string) => {
    if (!channel.startsWith(channelPrefix)) return;
    try {
      const { from, message } = JSON.parse(text) as { from: string; message: RelayMessage };
      onReceived?.(from === origin ? "self" : "peer");
      if (from !== origin) handler?.(message);
    } catch (err) {
      onError?.(err);
    }
  };
  sub.on(sharded ? "smessage" : "message", receive);
  const subscribe = (channel: string) =>
    (sharded ? sub.ssubscribe(channel) : sub.subscribe(channel)).then(() => undefined);
  const unsubscribe = (channel: string) =>
    (sharded ? sub.sunsubscribe(channel) : sub.unsubscribe(channel)).then(() => undefined);
  return {
    publish(message) {
      const channel = channelOf(roomOfMessage(message));
      const text = JSON.stringify({ from: origin, message });
      onPublished?.();
      (sharded ? pub.spublish(channel, text) : pub.publish(channel, text)).catch((err) => onError?.(err));
    },
    onMessage(h) {
      handler = h;
    },
    async watch(pollId) {
      if (watched.has(pollId)) return;
      watched.add(pollId);
      await subscribe(channelOf(pollId)).catch((err) => onError?.(err));
    },
    unwatch(pollId) {
      if (!watched.delete(pollId)) return;
      unsubscribe(channelOf(pollId)).catch((err) => onError?.(err));
    },
    async close() {
      // One channel per command: a cluster refuses one command over channels of several slots.
      const channels = [...watched].map(channelOf);
      watched.clear();
      await Promise.all(channels.map((c) => unsubscribe(c).catch(() => undefined)));
    },
  };
}
