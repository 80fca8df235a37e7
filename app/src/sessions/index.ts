import type { Redis } from "ioredis";

/** Where a participant is and what they did; the database stays the source of truth for identity and votes. */
export interface Session {
  participantId: string;
  pollId: string;
  nickname: string;
  socketId: string;
  voteIndex: number | null;
  lastSeen: number;
}

export interface SessionStore {
  get(participantId: string): Promise<Session | undefined>;
  /** Writes (or merges into) the session and restarts its TTL. */
  save(session: Partial<Session> & { participantId: string }): Promise<void>;
  remove(participantId: string): Promise<void>;
}

export function createMemorySessionStore({ ttlSeconds = 3600, maxEntries = 200_000 } = {}): SessionStore {
  const entries = new Map<string, { session: Session; expiresAt: number }>();
  return {
    async get(id) {
      const e = entries.get(id);
      if (!e) return undefined;
      if (e.expiresAt <= Date.now()) {
        entries.delete(id);
        return undefined;
      }
      return { ...e.session };
    },
    async save(partial) {
      const prev = entries.get(partial.participantId)?.session;
      const session = {
        pollId: "",
        nickname: "",
        socketId: "",
        voteIndex: null,
        lastSeen: Date.now(),
        ...prev,
        ...partial,
      } as Session;
      entries.delete(partial.participantId); // re-insert keeps Map order = least recently used first
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(partial.participantId, { session, expiresAt: Date.now() + ttlSeconds * 1000 });
    },
    async remove(id) {
      entries.delete(id);
    },
  };
}

/** A Redis hash per participant, so any instance can pick up a participant whose instance died. */
export function createRedisSessionStore(
  redis: Redis,
  { ttlSeconds = 3600, prefix = "zephyr:session:" } = {},
): SessionStore {
  const key = (id: string) => `${prefix}${id}`;
  return {
    async get(id) {
      const h = await redis.hgetall(key(id));
      if (!h.pollId) return undefined;
      return {
        participantId: id,
        pollId: h.pollId,
        nickname: h.nickname ?? "",
        socketId: h.socketId ?? "",
        voteIndex: h.voteIndex === undefined || h.voteIndex === "" ? null : Number(h.voteIndex),
        lastSeen: Number(h.lastSeen ?? 0),
      };
    },
    async save(partial) {
      const fields: Record<string, string> = { lastSeen: String(partial.lastSeen ?? Date.now()) };
      for (const [k, v] of Object.entries(partial)) {
        if (k === "participantId" || k === "lastSeen" || v === undefined) continue;
        fields[k] = v === null ? "" : String(v);
      }
      await redis
        .multi()
        .hset(key(partial.participantId), fields)
        .expire(key(partial.participantId), ttlSeconds)
        .exec();
    },
    async remove(id) {
      await redis.del(key(id));
    },
  };
}
