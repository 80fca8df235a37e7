import { type LiveResults, type PollView, toView } from "../domain/poll.js";
import { roomInputSchema, validate } from "../domain/schemas.js";
import { normalizeRoomCode } from "../domain/tokens.js";
import { type ActionObserver, type Caller, observe } from "./caller.js";
import type { Lookups } from "./lookups.js";
import type { ResultsReader } from "./ports.js";

export interface ReadPoll {
  poll(caller: Caller, input: unknown): Promise<PollView>;
  /** Every audience screen polls this: served from the results cache, one database read per code at most. */
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
        const { roomCode } = validate(roomInputSchema, input);
        await lookups.guard(caller);
        const code = normalizeRoomCode(roomCode);
        return (code && (await results.liveByCode(code))) || lookups.miss(caller);
      }),
  };
}
