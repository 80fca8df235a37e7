import { AppError } from "../domain/errors.js";
import type { PollRecord, VoteOutcome } from "../domain/poll.js";
import { validate, voteInputSchema } from "../domain/schemas.js";
import { type ActionObserver, type Caller, observe, rateLimited } from "./caller.js";
import type { Lookups } from "./lookups.js";
import type { Limits, VoteSubmitter } from "./ports.js";

export type CastVote = (
  caller: Caller,
  input: unknown,
) => Promise<{ optionIndex: number; outcome: VoteOutcome }>;

/**
 * A participant votes with its session (a joined socket) or its token (HTTP); either way the same per-participant
 * limit applies, so switching transports does not double the budget. Resolves once the vote is durable.
 */
export function castVoteUseCase({
  votes,
  lookups,
  limits,
  observer,
}: {
  votes: VoteSubmitter;
  lookups: Lookups;
  limits: Limits;
  observer: ActionObserver;
}): CastVote {
  async function target(caller: Caller, roomCode: string | undefined, token: string | undefined) {
    if (caller.session && !token) {
      const poll = await lookups.poll(caller, caller.session.roomCode);
      return { poll, participantId: caller.session.participantId };
    }
    if (!token && caller.session === null)
      throw new AppError("NOT_JOINED", "join a poll (join-poll) before voting");
    if (!token) throw new AppError("UNAUTHORIZED", "participant token required");
    const poll = await lookups.poll(caller, roomCode ?? caller.session?.roomCode);
    return { poll, participantId: (await lookups.participant(poll, token)).id };
  }

  function checkOption(poll: PollRecord, optionIndex: number) {
    if (optionIndex < 0 || optionIndex >= poll.options.length)
      throw new AppError("INVALID_OPTION", `optionIndex must be between 0 and ${poll.options.length - 1}`);
  }

  return (caller, input) =>
    observe(observer, "vote", caller, async () => {
      const { roomCode, participantToken, optionIndex } = validate(voteInputSchema, input);
      const { poll, participantId } = await target(caller, roomCode, participantToken);
      const limit = await limits.consume("vote", participantId);
      if (!limit.allowed) throw rateLimited("too many votes, slow down", limit.retryAfterMs);
      checkOption(poll, optionIndex);
      const outcome = await votes.submit({
        pollId: poll.id,
        roomCode: poll.roomCode,
        participantId,
        // One question per poll in the contract so far: position 0, answered with one option.
        questionIndex: 0,
        mask: 1 << optionIndex,
        receivedAt: Date.now(),
      });
      return { optionIndex, outcome };
    });
}
