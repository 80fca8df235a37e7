import { createLookupCache } from "../cache/lookup-cache.js";
import { AppError } from "../domain/errors.js";
import type { ParticipantRecord, PollRecord } from "../domain/poll.js";
import { hashToken, normalizeRoomCode, tokenMatchesHash } from "../domain/tokens.js";
import { type Caller, rateLimited } from "./caller.js";
import type { Limits, PollStore } from "./ports.js";

export interface Lookups {
  /**
   * The poll a room code names, behind the room-code guessing guard: unknown codes count against the caller's
   * address, and an address over the limit is refused before the lookup, so probing stops telling whether a
   * code exists. `fresh` skips the short cache (host actions and GET act on the status).
   */
  poll(caller: Caller, roomCode: unknown, opts?: { fresh?: boolean }): Promise<PollRecord>;
  /** RATE_LIMITED while the caller's address is over the unknown-room-code limit. */
  guard(caller: Caller): Promise<void>;
  /** Counts an unknown room code against the caller's address and throws POLL_NOT_FOUND. */
  miss(caller: Caller): Promise<never>;
  /** The participant a token belongs to, checked against the poll. */
  participant(poll: PollRecord, participantToken: string | undefined): Promise<ParticipantRecord>;
  /** FORBIDDEN / UNAUTHORIZED unless hostToken is this poll's. */
  requireHost(poll: PollRecord, hostToken: string | undefined): void;
  /** Drops a cached poll after a change made here (status, deletion). */
  forget(roomCode: string): void;
}

/**
 * Votes and joins reuse a poll row and a token's participant for `cacheMs`: every vote batch re-checks the
 * poll in the database, and foreign keys catch a deleted one, so the staleness is bounded and harmless.
 */
export function createLookups({
  polls,
  limits,
  cacheMs = 1000,
}: {
  polls: PollStore;
  limits: Limits;
  cacheMs?: number;
}): Lookups {
  const pollsByCode = createLookupCache<PollRecord>({ ttlMs: cacheMs });
  const participantsByTokenHash = createLookupCache<ParticipantRecord>({ ttlMs: cacheMs });

  async function guard(caller: Caller) {
    const waitMs = await limits.blockedFor("roomMiss", caller.address);
    if (waitMs > 0) throw rateLimited("too many unknown room codes, slow down", waitMs);
  }

  async function miss(caller: Caller): Promise<never> {
    const counted = await limits.consume("roomMiss", caller.address);
    if (!counted.allowed) throw rateLimited("too many unknown room codes, slow down", counted.retryAfterMs);
    throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
  }

  return {
    guard,
    miss,
    async poll(caller, rawCode, { fresh = false } = {}) {
      await guard(caller);
      const code = normalizeRoomCode(rawCode);
      const load = () => (code ? polls.findPollByCode(code) : Promise.resolve(undefined));
      const poll = code ? await (fresh ? load() : pollsByCode.get(code, load)) : undefined;
      return poll ?? miss(caller);
    },

    async participant(poll, participantToken) {
      if (!participantToken) throw new AppError("UNAUTHORIZED", "participant token required");
      const tokenHash = hashToken(participantToken);
      const participant = await participantsByTokenHash.get(tokenHash, () =>
        polls.findParticipantByTokenHash(tokenHash),
      );
      if (!participant) throw new AppError("UNAUTHORIZED", "unknown participant token; join the poll first");
      if (participant.pollId !== poll.id)
        throw new AppError("FORBIDDEN", "this participant token belongs to another poll");
      return participant;
    },

    requireHost(poll, hostToken) {
      if (!hostToken) throw new AppError("UNAUTHORIZED", "host token required");
      if (!tokenMatchesHash(hostToken, poll.hostTokenHash))
        throw new AppError("FORBIDDEN", "host token does not match this poll");
    },

    forget(roomCode) {
      pollsByCode.forget(roomCode);
    },
  };
}
