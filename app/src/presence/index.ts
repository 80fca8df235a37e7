/**
 * Presence: how many participants of a poll are connected right now, across all instances. Each instance
 * knows its own sockets; the store holds, per poll, every connected participant with an expiry that the
 * instance holding it keeps pushing forward. An instance that dies stops pushing, so its participants stop
 * counting within `timeoutMs` unless they reconnect elsewhere (then that instance holds them). Counting
 * participants rather than sockets means two tabs, or a reconnect that beats the old socket's timeout, still
 * count once.
 */
export interface PresenceStore {
  /**
   * Marks `present` connected until now + ttlMs, removes `absent`, drops expired entries and returns how
   * many participants of the poll are connected.
   */
  sync(pollId: string, present: string[], absent: string[], ttlMs: number): Promise<number>;
  count(pollId: string): Promise<number>;
}

/** A socket entering or leaving a poll's room: participants count, hosts (no participantId) only watch. */
export interface Presence {
  connected(pollId: string, participantId?: string): void;
  disconnected(pollId: string, participantId?: string): void;
  /** Withdraws this instance's participants (graceful shutdown) and stops. */
  close(): Promise<void>;
}

interface PollPresence {
  /** participantId -> sockets of that participant on this instance */
  sockets: Map<string, number>;
  /** Host sockets: they need fresh counts but are not counted. */
  watchers: number;
  present: Set<string>;
  absent: Set<string>;
}

export function createPresence({
  store,
  publish,
  onError,
  syncMs = 1000,
  timeoutMs = 15_000,
}: {
  store: PresenceStore;
  /** Where fresh counts go (the results module). */
  publish: (pollId: string, online: number) => void;
  onError?: (err: unknown) => void;
  syncMs?: number;
  timeoutMs?: number;
}): Presence {
  const local = new Map<string, PollPresence>();
  const heartbeatMs = Math.max(syncMs, Math.floor(timeoutMs / 3));
  let lastHeartbeat = 0;
  let running: Promise<void> | undefined;

  const pollOf = (pollId: string) => {
    let p = local.get(pollId);
    if (!p) {
      p = { sockets: new Map(), watchers: 0, present: new Set(), absent: new Set() };
      local.set(pollId, p);
    }
    return p;
  };

  async function syncAll() {
    const heartbeat = Date.now() - lastHeartbeat >= heartbeatMs;
    if (heartbeat) lastHeartbeat = Date.now();
    await Promise.all(
      [...local].map(async ([pollId, p]) => {
        const present = heartbeat ? [...p.sockets.keys()] : [...p.present];
        const absent = [...p.absent];
        p.present.clear();
        p.absent.clear();
        if (p.sockets.size === 0 && p.watchers === 0) local.delete(pollId);
        try {
          publish(pollId, await store.sync(pollId, present, absent, timeoutMs));
        } catch (err) {
          // Retried at the next sync: what was not written is still owed.
          for (const id of present) if (p.sockets.has(id)) p.present.add(id);
          for (const id of absent) if (!p.sockets.has(id)) p.absent.add(id);
          if (p.present.size + p.absent.size > 0) local.set(pollId, p);
          onError?.(err);
        }
      }),
    );
  }

  const timer = setInterval(() => {
    if (!running) running = syncAll().finally(() => (running = undefined));
  }, syncMs);
  timer.unref();

  return {
    connected(pollId, participantId) {
      const p = pollOf(pollId);
      if (participantId === undefined) {
        p.watchers++;
        return;
      }
      p.sockets.set(participantId, (p.sockets.get(participantId) ?? 0) + 1);
      p.absent.delete(participantId);
      p.present.add(participantId);
    },
    disconnected(pollId, participantId) {
      const p = local.get(pollId);
      if (!p) return;
      if (participantId === undefined) {
        p.watchers = Math.max(0, p.watchers - 1);
        return;
      }
      const n = p.sockets.get(participantId);
      if (n === undefined) return;
      if (n > 1) {
        p.sockets.set(participantId, n - 1);
        return;
      }
      p.sockets.delete(participantId);
      p.present.delete(participantId);
      p.absent.add(participantId);
    },
    async close() {
      clearInterval(timer);
      await running;
      for (const p of local.values()) {
        for (const id of p.sockets.keys()) p.absent.add(id);
        p.sockets.clear();
        p.watchers = 0;
        p.present.clear();
      }
      await syncAll().catch(() => undefined);
    },
  };
}

/** One instance: the same rules in memory. */
export function createMemoryPresenceStore(): PresenceStore {
  const polls = new Map<string, Map<string, number>>();
  const sweep = (pollId: string) => {
    const members = polls.get(pollId);
    if (!members) return 0;
    const now = Date.now();
    for (const [id, expiresAt] of members) if (expiresAt <= now) members.delete(id);
    if (members.size === 0) polls.delete(pollId);
    return members.size;
  };
  return {
    async sync(pollId, present, absent, ttlMs) {
      let members = polls.get(pollId);
      if (!members) {
        members = new Map();
        polls.set(pollId, members);
      }
      const expiresAt = Date.now() + ttlMs;
      for (const id of present) members.set(id, expiresAt);
      for (const id of absent) members.delete(id);
      return sweep(pollId);
    },
    async count(pollId) {
      return sweep(pollId);
    },
  };
}
