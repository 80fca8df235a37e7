import { AppError } from "../domain/errors.js";
import { type LiveResults, type PollStatus, type PollView, toView } from "../domain/poll.js";
import { hostInputSchema, validate } from "../domain/schemas.js";
import { type ActionObserver, type Caller, observe } from "./caller.js";
import type { Lookups } from "./lookups.js";
import type { ExportRow, PollExporter, PollStore, ResultsReader } from "./ports.js";

export type HostCommand = "view" | "close" | "reopen" | "delete";

export interface HostActions {
  /** The host's screen: the poll and its live results, authorised by the host token. */
  view(caller: Caller, input: unknown): Promise<{ poll: PollView; results: LiveResults }>;
  setStatus(caller: Caller, input: unknown, status: PollStatus): Promise<PollView>;
  remove(caller: Caller, input: unknown): Promise<void>;
  /** Every answer so far, streamed; the poll may be live. */
  exportAnswers(
    caller: Caller,
    input: unknown,
  ): Promise<{ roomCode: string; rows: AsyncIterable<ExportRow> }>;
}

export function hostActionsUseCase({
  polls,
  exporter,
  lookups,
  results,
  observer,
}: {
  polls: PollStore;
  exporter: PollExporter;
  lookups: Lookups;
  results: ResultsReader;
  observer: ActionObserver;
}): HostActions {
  /** Host actions read the poll fresh: they show or change its status. */
  async function authorised(caller: Caller, input: unknown) {
    const { roomCode, hostToken } = validate(hostInputSchema, input);
    const poll = await lookups.poll(caller, roomCode, { fresh: true });
    lookups.requireHost(poll, hostToken);
    return poll;
  }

  return {
    view: (caller, input) =>
      observe(observer, "host", caller, async () => {
        const poll = await authorised(caller, input);
        return { poll: toView(poll), results: await results.live(poll) };
      }),

    setStatus: (caller, input, status) =>
      observe(observer, "host", caller, async () => {
        const poll = await authorised(caller, input);
        if (poll.status !== status) {
          const changed = await polls.setStatus(poll.id, status);
          lookups.forget(poll.roomCode);
          if (!changed) throw new AppError("POLL_NOT_FOUND", "no poll with this room code");
          results.statusChanged({ pollId: poll.id, roomCode: poll.roomCode, status });
        }
        return toView({ ...poll, status });
      }),

    exportAnswers: (caller, input) =>
      observe(observer, "host", caller, async () => {
        const poll = await authorised(caller, input);
        return { roomCode: poll.roomCode, rows: exporter.rows(poll.id) };
      }),

    remove: (caller, input) =>
      observe(observer, "host", caller, async () => {
        const poll = await authorised(caller, input);
        const deleted = await polls.deletePoll(poll.id);
        lookups.forget(poll.roomCode);
        if (deleted) results.statusChanged({ pollId: poll.id, roomCode: poll.roomCode, status: "deleted" });
      }),
  };
}
