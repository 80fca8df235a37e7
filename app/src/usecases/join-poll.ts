import { randomUUID } from "node:crypto";
import { choiceFields, setBits } from "../domain/answers.js";
import { AppError } from "../domain/errors.js";
import { type LiveResults, type PollRecord, type PollView, toView } from "../domain/poll.js";
import { joinInputSchema, validate } from "../domain/schemas.js";
import { generateToken, hashToken } from "../domain/tokens.js";
import { type ActionObserver, type Caller, observe, rateLimited } from "./caller.js";
import type { Lookups } from "./lookups.js";
import type {
  AnswerStatus,
  Limits,
  ParticipantAdder,
  ParticipantAnswers,
  PollStore,
  ResultsReader,
} from "./ports.js";

export interface Joined {
  participantId: string;
  participantToken: string;
  nickname: string;
  poll: PollView;
  results: LiveResults;
  /** A returning participant's option in the first question when that is a single choice, else null. */
  yourVote: number | null;
  /** Everything a returning participant answered, by question, in the fields it was answered with. */
  yourAnswers: YourAnswer[];
  /** false when an existing participant came back with its token. */
  created: boolean;
}

export type YourAnswer = { questionIndex: number } & (
  | { optionIndex: number }
  | { optionIndexes: number[] }
  | { value: number }
  | { entries: string[] }
  | { answers: Array<{ answerId: string; text: string; status: AnswerStatus }> }
);

/** Stored answers in the shapes a client answers with, for questions the poll still has. */
function yourAnswersOf(poll: PollRecord, stored: ParticipantAnswers): YourAnswer[] {
  return stored.flatMap((a): YourAnswer[] => {
    const question = poll.questions[a.questionIndex];
    if (!question) return [];
    const { questionIndex } = a;
    if (a.kind === "choice") return [{ questionIndex, ...choiceFields(question, a.mask) }];
    if (a.kind === "words") return [{ questionIndex, entries: a.words }];
    return [{ questionIndex, answers: a.texts }];
  });
}

export type JoinPoll = (caller: Caller, input: unknown) => Promise<Joined>;

/**
 * New participants are limited per (address, poll) generously, since a whole venue shares one address, and
 * per address across *different* polls tightly, since no audience joins many polls at once; the poll's cap
 * bounds what any mix of addresses can add. A returning participant (token) creates nothing and is not limited.
 */
export function joinPollUseCase({
  polls,
  participants,
  lookups,
  limits,
  results,
  observer,
}: {
  polls: Pick<PollStore, "answersOf">;
  participants: ParticipantAdder;
  lookups: Lookups;
  limits: Limits;
  results: ResultsReader;
  observer: ActionObserver;
}): JoinPoll {
  async function admitNewParticipant(caller: Caller, pollId: string) {
    const inPoll = await limits.consume("join", `${caller.address}|${pollId}`);
    if (!inPoll.allowed)
      throw rateLimited("too many joins from this address, slow down", inPoll.retryAfterMs);
    if (inPoll.consumed > 1) return;
    // First participant from this address in this poll: that is what counts against "many polls".
    const acrossPolls = await limits.consume("joinPolls", caller.address);
    if (!acrossPolls.allowed) {
      // Refunded so the next attempt at this poll is judged as a first one again.
      await limits.refund("join", `${caller.address}|${pollId}`);
      throw rateLimited("this address joined too many polls, slow down", acrossPolls.retryAfterMs);
    }
  }

  return (caller, input) =>
    observe(observer, "join", caller, async () => {
      const payload = validate(joinInputSchema, input);
      const poll = await lookups.poll(caller, payload.roomCode);
      if (payload.participantToken) {
        // Identity is the participant, not the connection: the same token restores it on any instance.
        const participant = await lookups.participant(poll, payload.participantToken);
        const [answers, live] = await Promise.all([
          polls.answersOf(poll.id, participant.id),
          results.live(poll),
        ]);
        // The original contract's field, read from the same answers: the option of a first single-choice question.
        const first = answers.find((a) => a.questionIndex === 0);
        const yourVote =
          poll.questions[0]?.type === "single" && first?.kind === "choice"
            ? setBits(first.mask)[0]
            : undefined;
        if (!live) throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
        return {
          participantId: participant.id,
          participantToken: payload.participantToken,
          nickname: participant.nickname,
          poll: toView(poll),
          results: live,
          yourVote: yourVote ?? null,
          yourAnswers: yourAnswersOf(poll, answers),
          created: false,
        };
      }
      const nickname = payload.nickname as string;
      await admitNewParticipant(caller, poll.id);
      const participantId = randomUUID();
      const participantToken = generateToken("participant");
      const snapshot = await participants.add({
        id: participantId,
        pollId: poll.id,
        roomCode: poll.roomCode,
        nickname,
        tokenHash: hashToken(participantToken),
      });
      return {
        participantId,
        participantToken,
        nickname,
        poll: toView(poll),
        results: await results.withOnline(snapshot),
        yourVote: null,
        yourAnswers: [],
        created: true,
      };
    });
}
