import { AppError } from "../domain/errors.js";
import { type LiveResults, type PollView, toView } from "../domain/poll.js";
import { resultsInputSchema, roomInputSchema, validate } from "../domain/schemas.js";
import { normalizeRoomCode } from "../domain/tokens.js";
import { type ActionObserver, type Caller, observe } from "./caller.js";
import type { Lookups } from "./lookups.js";
import type { ResultsReader } from "./ports.js";

export interface ReadPoll {
  poll(caller: Caller, input: unknown): Promise<PollView>;
  /**
   * Every audience screen polls this: served from the results cache, one database read per code at most. Another
   * question than the active one is read from the database; a host token shows the host view.
   */
  results(caller: Caller, input: unknown): Promise<LiveResults>;
}

export function readPollUseCase({
  lookups,
  results,
  observer,
}: {
  lookups: Lookups;
  results: ResultsReader;
  observer: ActionObserver;
}): ReadPoll {
  return {
    poll: (caller, input) =>
      observe(observer, "read", caller, async () => {
        const { roomCode } = validate(roomInputSchema, input);
        return toView(await lookups.poll(caller, roomCode, { fresh: true }));
      }),
    results: (caller, input) =>
      observe(observer, "read", caller, async () => {
        const { roomCode, questionIndex, hostToken } = validate(resultsInputSchema, input);
        if (questionIndex === undefined && hostToken === undefined) {
          await lookups.guard(caller);
          const code = normalizeRoomCode(roomCode);
          return (code && (await results.liveByCode(code))) || lookups.miss(caller);
        }
        const poll = await lookups.poll(caller, roomCode);
        if (hostToken !== undefined) lookups.requireHost(poll, hostToken);
        if (questionIndex !== undefined && questionIndex >= poll.questions.length)
          throw new AppError(
            "VALIDATION_FAILED",
            `question: must be between 0 and ${poll.questions.length - 1}`,
          );
        const live = await results.liveByCode(poll.roomCode, {
          questionIndex,
          audience: hostToken === undefined ? "room" : "host",
        });
        return live ?? lookups.miss(caller);
      }),
  };
}
