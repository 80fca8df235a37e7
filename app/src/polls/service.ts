import { randomUUID } from "node:crypto";
import type { Database } from "../db/types.js";
import { AppError } from "../errors/index.js";
import { type PollRecord, type PollStatus, pollRepository as repo } from "./repository.js";
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

/** What the real-time layer needs to hear about; the HTTP and socket paths both go through the service. */
export interface PollEvents {
  voteRecorded(e: {
    pollId: string;
    roomCode: string;
    participantId: string;
    optionIndex: number;
    acceptedAt: number;
  }): void;
  statusChanged(e: { pollId: string; roomCode: string; status: PollStatus | "deleted" }): void;
}

export const noPollEvents: PollEvents = { voteRecorded() {}, statusChanged() {} };

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
  (err as { code?: string; constraint?: string }).code === "23505" &&
  ((err as { constraint?: string }).constraint === constraint ||
    String((err as Error).message).includes(constraint));

export interface PollService {
  create(input: CreatePollInput): Promise<PollView & { hostToken: string }>;
  get(roomCode: string): Promise<PollView>;
  results(roomCode: string): Promise<Results>;
  setStatus(roomCode: string, hostToken: string | undefined, status: PollStatus): Promise<PollView>;
  remove(roomCode: string, hostToken: string | undefined): Promise<void>;
  join(
    roomCode: string,
    nickname: string,
  ): Promise<{ participantId: string; participantToken: string; poll: PollView }>;
  vote(
    roomCode: string,
    participantToken: string | undefined,
    optionIndex: number,
  ): Promise<{ optionIndex: number }>;
}

export function createPollService({
  db,
  events = noPollEvents,
}: {
  db: Database;
  events?: PollEvents;
}): PollService {
  async function findPoll(roomCode: string): Promise<PollRecord> {
    const code = normalizeRoomCode(roomCode);
    const poll = code && (await repo.findPollByCode(db, code));
    if (!poll) throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
    return poll;
  }

  function requireHost(poll: PollRecord, hostToken: string | undefined) {
    if (!hostToken)
      throw new AppError("UNAUTHORIZED", "host token required (Authorization: Bearer <hostToken>)");
    if (!tokenMatchesHash(hostToken, poll.hostTokenHash))
      throw new AppError("FORBIDDEN", "host token does not match this poll");
  }

  return {
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
      return toView(await findPoll(roomCode));
    },

    async results(roomCode) {
      const poll = await findPoll(roomCode);
      const counts = await repo.counts(db, poll.id);
      return { roomCode: poll.roomCode, counts, total: counts.reduce((a, b) => a + b, 0) };
    },

    async setStatus(roomCode, hostToken, status) {
      const poll = await findPoll(roomCode);
      requireHost(poll, hostToken);
      if (poll.status !== status) {
        if (!(await repo.setStatus(db, poll.id, status)))
          throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
        events.statusChanged({ pollId: poll.id, roomCode: poll.roomCode, status });
      }
      return toView({ ...poll, status });
    },

    async remove(roomCode, hostToken) {
      const poll = await findPoll(roomCode);
      requireHost(poll, hostToken);
      if (await repo.deletePoll(db, poll.id))
        events.statusChanged({ pollId: poll.id, roomCode: poll.roomCode, status: "deleted" });
    },

    async join(roomCode, nickname) {
      const poll = await findPoll(roomCode);
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

    async vote(roomCode, participantToken, optionIndex) {
      if (!participantToken)
        throw new AppError(
          "UNAUTHORIZED",
          "participant token required (Authorization: Bearer <participantToken>)",
        );
      const poll = await findPoll(roomCode);
      const participant = await repo.findParticipantByTokenHash(db, hashToken(participantToken));
      if (!participant) throw new AppError("UNAUTHORIZED", "unknown participant token; join the poll first");
      if (participant.pollId !== poll.id)
        throw new AppError("FORBIDDEN", "this participant token belongs to another poll");
      if (!Number.isInteger(optionIndex) || optionIndex < 0 || optionIndex >= poll.options.length) {
        throw new AppError("INVALID_OPTION", `optionIndex must be between 0 and ${poll.options.length - 1}`);
      }
      const outcome = await db.transaction(async (tx) => {
        // Re-read inside the transaction: the host may have closed or deleted the poll meanwhile.
        const current = await tx.query<{ status: PollStatus; allow_vote_change: boolean }>(
          "SELECT status, allow_vote_change FROM polls WHERE id = $1",
          [poll.id],
        );
        const state = current[0];
        if (!state) throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
        if (state.status !== "open") throw new AppError("POLL_CLOSED", "this poll is closed");
        const result = await repo.castVote(tx, {
          pollId: poll.id,
          participantId: participant.id,
          option: optionIndex,
          allowChange: state.allow_vote_change,
        });
        if (result === "missing") throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
        if (result === "change-not-allowed")
          throw new AppError("VOTE_CHANGE_NOT_ALLOWED", "this poll does not allow changing a vote");
        return result;
      });
      if (outcome.kind !== "unchanged") {
        events.voteRecorded({
          pollId: poll.id,
          roomCode: poll.roomCode,
          participantId: participant.id,
          optionIndex,
          acceptedAt: Date.now(),
        });
      }
      return { optionIndex };
    },
  };
}
