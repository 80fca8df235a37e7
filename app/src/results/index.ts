import { createLookupCache } from "../cache/lookup-cache.js";
import { type LiveResults, liveView, type ResultsSnapshot } from "../domain/poll.js";
import type { Logger } from "../logging/index.js";
import type { ResultsStore } from "../storage/results-store.js";
import type { Audience, ResultsReader } from "../usecases/ports.js";
import { createBroadcaster } from "./broadcaster.js";
import type { Relay, StatusChange } from "./relay.js";
import { createResultsCache } from "./results-cache.js";

/** A transport that shows rooms to clients: gets every room update, says which rooms it shows. */
export interface RoomSubscriber {
  /** resultsChanged is false for an update that only carries a new online count. */
  update(
    snapshot: ResultsSnapshot,
    online: number,
    oldestVoteAt: number | undefined,
    resultsChanged: boolean,
  ): void;
  status(change: StatusChange): void;
  /** Polls this subscriber has members of on this instance (for resync). */
  watched(): Iterable<string>;
}

export interface Results extends ResultsReader {
  /** From presence: how many participants of a poll are connected across all instances. */
  online(pollId: string, count: number): void;
  /** A transport has members of this room on this instance now (first one in): hear its news from the others. */
  watch(pollId: string): void;
  /** Its last member here left: stop hearing the room's news. */
  unwatch(pollId: string): void;
  subscribe(subscriber: RoomSubscriber): () => void;
  close(): void;
}

/**
 * Where every committed snapshot goes, from this instance's writer or, through the relay, another's: it keeps
 * the results cache current, relays local snapshots to the other instances, and feeds the per-room coalescing
 * broadcaster whose output subscribers (the Socket.IO transport) deliver. A periodic resync re-reads the
 * version of watched rooms, healing what a lost relay message (Redis restart) would leave stale.
 */
export function createResults({
  store,
  relay,
  countOnline,
  logger,
  broadcastIntervalMs = 100,
  cacheMs = 250,
  resyncMs = 5000,
  onlineCacheMs = 1000,
}: {
  store: ResultsStore;
  relay: Relay;
  /** Participants connected across all instances, read from the presence store. */
  countOnline: (pollId: string) => Promise<number>;
  logger: Logger;
  broadcastIntervalMs?: number;
  cacheMs?: number;
  resyncMs?: number;
  onlineCacheMs?: number;
}): Results {
  const subscribers = new Set<RoomSubscriber>();
  const cache = createResultsCache<ResultsSnapshot>({ ttlMs: cacheMs });
  const onlineByPoll = createLookupCache<number>({ ttlMs: onlineCacheMs });
  const broadcaster = createBroadcaster({
    intervalMs: broadcastIntervalMs,
    emit: (snapshot, online, oldest, resultsChanged) => {
      for (const s of subscribers) s.update(snapshot, online, oldest, resultsChanged);
    },
  });

  const accept = (snapshot: ResultsSnapshot) => {
    // The cache answers for the active question; a host hiding another question does not replace it.
    if (snapshot.questionIndex === snapshot.activeQuestion) cache.offer(snapshot);
    broadcaster.offer(snapshot);
  };
  const announce = (change: StatusChange) => {
    if (change.status === "deleted") cache.forget(change.roomCode);
    for (const s of subscribers) s.status(change);
  };

  relay.onMessage((message) => {
    if (message.kind === "results") accept(message.snapshot);
    else announce(message);
  });

  const withOnline = async (s: ResultsSnapshot, audience: Audience = "room"): Promise<LiveResults> =>
    liveView(s, (await onlineByPoll.get(s.pollId, () => countOnline(s.pollId))) ?? 0, audience);
  const cached = (roomCode: string) => cache.get(roomCode, () => store.snapshotByCode(roomCode));

  let resyncRunning = false;
  const resync = async () => {
    if (resyncRunning) return;
    resyncRunning = true;
    try {
      const pollIds = new Set<string>();
      for (const s of subscribers) for (const id of s.watched()) pollIds.add(id);
      if (pollIds.size === 0) return;
      // Snapshots are O(options) rows each now, so reading them all at once is cheaper than a version check
      // followed by one read per stale room; the broadcaster drops those it has already sent.
      for (const snapshot of await store.snapshots([...pollIds])) accept(snapshot);
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message } }, "results resync failed");
    } finally {
      resyncRunning = false;
    }
  };
  /**
   * Once the relay hears a room, one read of its newest snapshot covers what other instances committed before
   * the subscription was in place (the joiner's ack was read earlier); the broadcaster drops it if not newer.
   */
  const heal = async (pollId: string) => {
    try {
      for (const snapshot of await store.snapshots([pollId])) accept(snapshot);
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message } }, "results read for a watched room failed");
    }
  };

  const resyncTimer = resyncMs > 0 ? setInterval(resync, resyncMs) : undefined;
  resyncTimer?.unref();

  return {
    committed(snapshot) {
      accept(snapshot);
      relay.publish({ kind: "results", snapshot });
    },
    statusChanged(change) {
      announce(change);
      relay.publish({ kind: "status", ...change });
    },
    online(pollId, count) {
      onlineByPoll.set(pollId, count);
      broadcaster.setOnline(pollId, count);
    },
    watch(pollId) {
      void relay.watch(pollId).then(() => heal(pollId));
    },
    unwatch(pollId) {
      relay.unwatch(pollId);
    },
    withOnline,
    async live(poll, { questionIndex, audience } = {}) {
      const snapshot = await store.snapshot(poll.id, questionIndex);
      if (!snapshot) return undefined;
      accept(snapshot);
      return withOnline(snapshot, audience);
    },
    async liveByCode(roomCode, { questionIndex, audience } = {}) {
      const active = await cached(roomCode);
      const snapshot =
        questionIndex === undefined || active?.questionIndex === questionIndex
          ? active
          : active && (await store.snapshotByCode(roomCode, questionIndex));
      return snapshot && withOnline(snapshot, audience);
    },
    async activeQuestion(roomCode) {
      return (await cached(roomCode))?.activeQuestion;
    },
    subscribe(subscriber) {
      subscribers.add(subscriber);
      return () => subscribers.delete(subscriber);
    },
    close() {
      if (resyncTimer) clearInterval(resyncTimer);
      broadcaster.close();
    },
  };
}
