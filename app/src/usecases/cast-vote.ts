import { randomUUID } from "node:crypto";
import { choiceFields, parseAnswer } from "../domain/answers.js";
import { AppError, isAppError } from "../domain/errors.js";
import { isSingleChoicePoll, type PollRecord, type VoteOutcome } from "../domain/poll.js";
import type { Question } from "../domain/questions.js";
import { LIMITS, validate, voteInputSchema } from "../domain/schemas.js";
import { type ActionObserver, type Caller, observe, rateLimited } from "./caller.js";
import type { Lookups } from "./lookups.js";
import type { AnswerSubmitter, Limits, ResultsReader, StoredAnswer } from "./ports.js";

/** What a client is told was recorded: the answer as stored (entries normalised), and an open answer's id. */
export type AnswerReceipt =
  | { optionIndex: number }
  | { questionIndex: number; optionIndex: number }
  | { questionIndex: number; optionIndexes: number[] }
  | { questionIndex: number; value: number }
  | { questionIndex: number; entries: string[] }
  | { questionIndex: number; answerId: string; text: string };

export type CastVote = (
  caller: Caller,
  input: unknown,
) => Promise<{ receipt: AnswerReceipt; type: Question["type"]; outcome: VoteOutcome }>;

/** Runs a parse now: a VALIDATION_FAILED throws at once, anything else is rethrown when the result is taken. */
function wellFormed<T>(parse: () => T): () => T {
  try {
    const value = parse();
    return () => value;
  } catch (err) {
    if (isAppError(err) && err.code === "VALIDATION_FAILED") throw err;
    return () => {
      throw err;
    };
  }
}

/**
 * A participant answers with its session (a joined socket) or its token (HTTP); either way the same per-participant
 * limit applies, so switching transports does not double the budget. The answer is checked against its question
 * (the active one unless named) and resolves once durable.
 */
export function castVoteUseCase({
  votes,
  lookups,
  limits,
  results,
  observer,
}: {
  votes: AnswerSubmitter;
  lookups: Lookups;
  limits: Limits;
  results: Pick<ResultsReader, "activeQuestion">;
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

  /** The poll row may be cached; the results module hears of every activation on any instance at once. */
  const activeIndex = async (poll: PollRecord) =>
    (await results.activeQuestion(poll.roomCode)) ?? poll.activeQuestion;

  function questionAt(poll: PollRecord, index: number): Question {
    const question = poll.questions[index];
    if (!question)
      throw new AppError(
        "VALIDATION_FAILED",
        `questionIndex: must be between 0 and ${poll.questions.length - 1}`,
      );
    return question;
  }

  function receiptOf(
    poll: PollRecord,
    index: number,
    question: Question,
    stored: StoredAnswer,
  ): AnswerReceipt {
    switch (stored.kind) {
      case "text":
        return { questionIndex: index, answerId: stored.id, text: stored.text };
      case "words":
        return { questionIndex: index, entries: stored.words };
      case "choice": {
        const fields = choiceFields(question, stored.mask);
        // The original contract's acknowledgement, unchanged for the polls it describes.
        return "optionIndex" in fields && isSingleChoicePoll(poll)
          ? fields
          : { questionIndex: index, ...fields };
      }
    }
  }

  return (caller, input) =>
    observe(observer, "vote", caller, async (detail) => {
      const { roomCode, participantToken, questionIndex, ...fields } = validate(voteInputSchema, input);
      const { poll, participantId } = await target(caller, roomCode, participantToken);
      // A one-question poll needs no lookup of the active question (and is most polls' answers).
      const index = questionIndex ?? (poll.questions.length === 1 ? 0 : await activeIndex(poll));
      const question = questionAt(poll, index);
      detail.questionType = question.type;
      // A malformed answer is refused before the limiter; a well-formed one (an option out of range too) counts.
      const parsed = wellFormed(() => parseAnswer(question, fields));
      const limit = await limits.consume("vote", participantId);
      if (!limit.allowed) throw rateLimited("too many votes, slow down", limit.retryAfterMs);
      const answer = parsed();
      const stored: StoredAnswer =
        answer.kind === "text"
          ? { ...answer, id: randomUUID(), limit: LIMITS.openAnswersPerParticipant }
          : answer;
      const outcome = await votes.submit({
        pollId: poll.id,
        roomCode: poll.roomCode,
        participantId,
        questionIndex: index,
        answer: stored,
        receivedAt: Date.now(),
      });
      return { receipt: receiptOf(poll, index, question, stored), type: question.type, outcome };
    });
}
