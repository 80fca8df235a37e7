import { randomUUID } from "node:crypto";
import type { Database } from "../db/types.js";
import { AppError } from "../errors/index.js";
import { type ResultsSnapshot, readSnapshot, type VoteOutcome, type VoteWriter } from "../votes/writer.js";
import { createLookupCache } from "./lookup-cache.js";
import {
  type ParticipantRecord,
  type PollRecord,
  type PollStatus,
  pollRepository as repo,
} from "./repository.js";
import { createResultsCache, type ResultsCache } from "./results-cache.js";
import type { CreatePollInput } from "./schemas.js";
import { generateRoomCode, generateToken, hashToken, normalizeRoomCode, tokenMatchesHash } from "./tokens.js";

export interface PollView {
  id: string;
  roomCode: string;
  question: string;
  options: string[];
  status: PollStatus;
  allowVoteChange: boolean;
  createdAt: string;
}

export interface Results {
  roomCode: string;
  counts: number[];
  total: number;
}

/** What the real-time layer hears about host actions; votes reach it through the VoteWriter. */
export interface PollEvents {
  statusChanged(e: { pollId: string; roomCode: string; status: PollStatus | "deleted" }): void;
}

export const noPollEvents: PollEvents = { statusChanged() {} };

export const toView = (p: PollRecord): PollView => ({
  id: p.id,
  roomCode: p.roomCode,
  question: p.question,
  options: p.options,
  status: p.status,
  allowVoteChange: p.allowVoteChange,
  createdAt: p.createdAt,
});

const isUniqueViolation = (err: unknown, constraint: string) =>
  (err as { code?: string }).code === "23505" &&
  ((err as { constraint?: string }).constraint === constraint ||
    String((err as Error).message).includes(constraint));

export interface VoteTarget {
  id: string;
  roomCode: string;
  optionCount: number;
}

export interface PollService {
  create(input: CreatePollInput): Promise<PollView & { hostToken: string }>;
  /** POLL_NOT_FOUND unless the (case-insensitive) code names a live poll. */
  find(roomCode: string): Promise<PollRecord>;
  get(roomCode: string): Promise<PollView>;
  results(roomCode: string): Promise<Results>;
  snapshot(poll: Pick<PollRecord, "id" | "roomCode">): Promise<ResultsSnapshot>;
  /** Current results_version of several polls (deleted ones are absent). */
  versions(pollIds: string[]): Promise<Array<{ pollId: string; roomCode: string; seq: number }>>;
  setStatus(roomCode: string, hostToken: string | undefined, status: PollStatus): Promise<PollView>;
  remove(roomCode: string, hostToken: string | undefined): Promise<void>;
  /** FORBIDDEN / UNAUTHORIZED unless hostToken is this poll's. */
  requireHost(poll: PollRecord, hostToken: string | undefined): void;
  join(
    roomCode: string,
    nickname: string,
  ): Promise<{ participantId: string; participantToken: string; poll: PollView }>;
  /** The participant a token belongs to, checked against the poll. */
  authenticate(poll: PollRecord, participantToken: string | undefined): Promise<ParticipantRecord>;
  voteOf(poll: PollRecord, participantId: string): Promise<number | undefined>;
  /** Queues the vote for group commit; resolves once it is durable. */
  vote(target: VoteTarget, participantId: string, optionIndex: number): Promise<VoteOutcome>;
  /** The HTTP flavour: room code + bearer token. */
  voteByToken(
    roomCode: string,
    participantToken: string | undefined,
    optionIndex: number,
  ): Promise<{ optionIndex: number }>;
}

export function createPollService({
  db,
  writer,
  events = noPollEvents,
  resultsCache = createResultsCache({ ttlMs: 0 }),
  lookupCacheMs = 0,
}: {
  db: Database;
  writer: VoteWriter;
  events?: PollEvents;
  resultsCache?: ResultsCache;
  /** How long a poll row and a token's participant are reused (0 = read every time). */
  lookupCacheMs?: number;
}): PollService {
  const pollsByCode = createLookupCache<PollRecord>({ ttlMs: lookupCacheMs });
  const participantsByTokenHash = createLookupCache<ParticipantRecord>({ ttlMs: lookupCacheMs });

  /**
   * Votes and joins may use the cached row; GET and host actions pass fresh, since they show or act on the
   * status.
   */
  async function find(roomCode: string, { fresh = false } = {}): Promise<PollRecord> {
    const code = normalizeRoomCode(roomCode);
    const load = () => (code ? repo.findPollByCode(db, code) : Promise.resolve(undefined));
    const poll = await (fresh || !code ? load() : pollsByCode.get(code, load));
    if (!poll) throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
    return poll;
  }

  function requireHost(poll: PollRecord, hostToken: string | undefined) {
    if (!hostToken)
      throw new AppError("UNAUTHORIZED", "host token required (Authorization: Bearer <hostToken>)");
    if (!tokenMatchesHash(hostToken, poll.hostTokenHash))
      throw new AppError("FORBIDDEN", "host token does not match this poll");
  }

  async function authenticate(
    poll: PollRecord,
    participantToken: string | undefined,
  ): Promise<ParticipantRecord> {
    if (!participantToken) throw new AppError("UNAUTHORIZED", "participant token required");
    const tokenHash = hashToken(participantToken);
    const participant = await participantsByTokenHash.get(tokenHash, () =>
      repo.findParticipantByTokenHash(db, tokenHash),
    );
    if (!participant) throw new AppError("UNAUTHORIZED", "unknown participant token; join the poll first");
    if (participant.pollId !== poll.id)
      throw new AppError("FORBIDDEN", "this participant token belongs to another poll");
    return participant;
  }

  async function vote(target: VoteTarget, participantId: string, optionIndex: number): Promise<VoteOutcome> {
    if (!Number.isInteger(optionIndex) || optionIndex < 0 || optionIndex >= target.optionCount) {
      throw new AppError("INVALID_OPTION", `optionIndex must be between 0 and ${target.optionCount - 1}`);
    }
    return writer.submit({
      pollId: target.id,
      roomCode: target.roomCode,
      participantId,
      optionIndex,
      receivedAt: Date.now(),
    });
  }

  return {
    find,
    requireHost,
    authenticate,
    vote,

    async create(input) {
      const id = randomUUID();
      const hostToken = generateToken("host");
      // 31^6 codes: a clash is rare, but when it happens the unique constraint decides and we draw again.
      for (let attempt = 0; attempt < 8; attempt++) {
        const roomCode = generateRoomCode();
        let createdAt: string;
        try {
          ({ createdAt } = await db.transaction((tx) =>
            repo.insertPoll(tx, {
              id,
              roomCode,
              question: input.question,
              options: input.options,
              allowVoteChange: input.allowVoteChange,
              hostTokenHash: hashToken(hostToken),
            }),
          ));
        } catch (err) {
          if (isUniqueViolation(err, "polls_room_code_key")) continue;
          throw err;
        }
        return {
          id,
          roomCode,
          hostToken,
          question: input.question,
          options: input.options,
          status: "open",
          allowVoteChange: input.allowVoteChange,
          createdAt,
        };
      }
      throw new AppError("UNAVAILABLE", "could not allocate a room code, retry");
    },

    async get(roomCode) {
      return toView(await find(roomCode, { fresh: true }));
    },

    async results(roomCode) {
      const code = normalizeRoomCode(roomCode);
      const results =
        code &&
        (await resultsCache.get(code, async () => {
          const r = await repo.resultsByCode(db, code);
          return (
            r && { roomCode: code, counts: r.counts, total: r.counts.reduce((a, b) => a + b, 0), seq: r.seq }
          );
        }));
      if (!results) throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
      return results;
    },

    snapshot(poll) {
      return readSnapshot(db, poll.id, poll.roomCode);
    },

    async versions(pollIds) {
      const rows = await db.query<{ id: string; room_code: string; results_version: number }>(
        "SELECT id, room_code, results_version FROM polls WHERE id = ANY($1::uuid[])",
        [pollIds],
      );
      return rows.map((r) => ({ pollId: r.id, roomCode: r.room_code, seq: Number(r.results_version) }));
    },

    async setStatus(roomCode, hostToken, status) {
      const poll = await find(roomCode, { fresh: true });
      requireHost(poll, hostToken);
      if (poll.status !== status) {
        const changed = await repo.setStatus(db, poll.id, status);
        pollsByCode.forget(poll.roomCode);
        if (!changed) throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
        events.statusChanged({ pollId: poll.id, roomCode: poll.roomCode, status });
      }
      return toView({ ...poll, status });
    },

    async remove(roomCode, hostToken) {
      const poll = await find(roomCode, { fresh: true });
      requireHost(poll, hostToken);
      const deleted = await repo.deletePoll(db, poll.id);
      pollsByCode.forget(poll.roomCode);
      if (deleted) events.statusChanged({ pollId: poll.id, roomCode: poll.roomCode, status: "deleted" });
    },

    async join(roomCode, nickname) {
      const poll = await find(roomCode);
      const participantId = randomUUID();
      const participantToken = generateToken("participant");
      try {
        await repo.insertParticipant(db, {
          id: participantId,
          pollId: poll.id,
          nickname,
          tokenHash: hashToken(participantToken),
        });
      } catch (err) {
        // The poll was deleted between the lookup and the insert.
        if ((err as { code?: string }).code === "23503")
          throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
        throw err;
      }
      return { participantId, participantToken, poll: toView(poll) };
    },

    voteOf(poll, participantId) {
      return repo.voteOf(db, poll.id, participantId);
    },

    async voteByToken(roomCode, participantToken, optionIndex) {
      if (!participantToken)
        throw new AppError(
          "UNAUTHORIZED",
          "participant token required (Authorization: Bearer <participantToken>)",
        );
      const poll = await find(roomCode);
      const participant = await authenticate(poll, participantToken);
      await vote(
        { id: poll.id, roomCode: poll.roomCode, optionCount: poll.options.length },
        participant.id,
        optionIndex,
      );
      return { optionIndex };
    },
  };
}
