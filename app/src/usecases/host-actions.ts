import { AppError } from "../domain/errors.js";
import { type LiveResults, type PollRecord, type PollStatus, type PollView, toView } from "../domain/poll.js";
import {
  hostAnswerInputSchema,
  hostInputSchema,
  hostQuestionInputSchema,
  validate,
} from "../domain/schemas.js";
import { type ActionObserver, type Caller, observe } from "./caller.js";
import type { Lookups } from "./lookups.js";
import type { AnswerStatus, ExportRow, HostStore, PollExporter, PollStore, ResultsReader } from "./ports.js";

export interface HostActions {
  /** The host's screen: the poll and its live results (host view), authorised by the host token. */
  view(caller: Caller, input: unknown): Promise<{ poll: PollView; results: LiveResults }>;
  setStatus(caller: Caller, input: unknown, status: PollStatus): Promise<PollView>;
  remove(caller: Caller, input: unknown): Promise<void>;
  /** Moves the room to another question: answers go to it and every screen follows. */
  activate(caller: Caller, input: unknown): Promise<{ poll: PollView; results: LiveResults }>;
  /** Hides or reveals a question's results from participants (hosts always see them). */
  setResultsHidden(caller: Caller, input: unknown, hidden: boolean): Promise<LiveResults>;
  /** Shows a pending open answer to the room (approve) or takes an answer away (remove). */
  moderate(
    caller: Caller,
    input: unknown,
    action: "approve" | "remove",
  ): Promise<{ answerId: string; status: AnswerStatus; results: LiveResults }>;
  /** Every answer so far, streamed; the poll may be live. */
  exportAnswers(
    caller: Caller,
    input: unknown,
  ): Promise<{ roomCode: string; rows: AsyncIterable<ExportRow> }>;
}

const pollGone = () => new AppError("POLL_NOT_FOUND", "no poll with this room code");

export function hostActionsUseCase({
  polls,
  questions,
  exporter,
  lookups,
  results,
  observer,
}: {
  polls: PollStore;
  questions: HostStore;
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

  /** A host action on one question: the poll, authorised, and the question, which must exist. */
  async function onQuestion<S extends typeof hostQuestionInputSchema>(
    caller: Caller,
    input: unknown,
    schema: S,
  ) {
    const parsed = validate(schema, input);
    const poll = await authorised(caller, { roomCode: parsed.roomCode, hostToken: parsed.hostToken });
    if (parsed.questionIndex >= poll.questions.length)
      throw new AppError(
        "VALIDATION_FAILED",
        `questionIndex: must be between 0 and ${poll.questions.length - 1}`,
      );
    return { poll, parsed };
  }

  const hostView = async (poll: PollRecord) => {
    const live = await results.live(poll, { audience: "host" });
    if (!live) throw pollGone();
    return live;
  };

  return {
    view: (caller, input) =>
      observe(observer, "host", caller, async () => {
        const poll = await authorised(caller, input);
        return { poll: toView(poll), results: await hostView(poll) };
      }),

    setStatus: (caller, input, status) =>
      observe(observer, "host", caller, async () => {
        const poll = await authorised(caller, input);
        if (poll.status !== status) {
          const changed = await polls.setStatus(poll.id, status);
          lookups.forget(poll.roomCode);
          if (!changed) throw pollGone();
          results.statusChanged({ pollId: poll.id, roomCode: poll.roomCode, status });
        }
        return toView({ ...poll, status });
      }),

    activate: (caller, input) =>
      observe(observer, "host", caller, async () => {
        const { poll, parsed } = await onQuestion(caller, input, hostQuestionInputSchema);
        const snapshot = await questions.activateQuestion(poll.id, parsed.questionIndex);
        lookups.forget(poll.roomCode);
        if (!snapshot) throw pollGone();
        // The snapshot first: every instance learns the new active question before its screens are told, so
        // an answer sent on hearing of it already defaults to it.
        results.committed(snapshot);
        results.statusChanged({
          pollId: poll.id,
          roomCode: poll.roomCode,
          status: poll.status,
          activeQuestion: parsed.questionIndex,
        });
        return {
          poll: toView({ ...poll, activeQuestion: parsed.questionIndex }),
          results: await results.withOnline(snapshot, "host"),
        };
      }),

    setResultsHidden: (caller, input, hidden) =>
      observe(observer, "host", caller, async () => {
        const { poll, parsed } = await onQuestion(caller, input, hostQuestionInputSchema);
        const snapshot = await questions.setResultsHidden(poll.id, parsed.questionIndex, hidden);
        if (!snapshot) throw pollGone();
        results.committed(snapshot);
        return results.withOnline(snapshot, "host");
      }),

    moderate: (caller, input, action) =>
      observe(observer, "host", caller, async () => {
        const { poll, parsed } = await onQuestion(caller, input, hostAnswerInputSchema);
        const question = poll.questions[parsed.questionIndex];
        if (question?.type !== "open")
          throw new AppError(
            "VALIDATION_FAILED",
            "questionIndex: only open questions have answers to moderate",
          );
        const done = await questions.moderateAnswer(poll.id, parsed.questionIndex, parsed.answerId, action);
        if (done === "missing") throw new AppError("NOT_FOUND", "no such answer to this question");
        if (done.snapshot) results.committed(done.snapshot);
        const live = done.snapshot
          ? await results.withOnline(done.snapshot, "host")
          : await results.live(poll, { questionIndex: parsed.questionIndex, audience: "host" });
        if (!live) throw pollGone();
        return { answerId: parsed.answerId, status: done.status, results: live };
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
