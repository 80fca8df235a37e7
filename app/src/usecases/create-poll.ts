import { randomUUID } from "node:crypto";
import { AppError } from "../domain/errors.js";
import { firstQuestionFields, type PollView, toView } from "../domain/poll.js";
import { validatePollDefinition } from "../domain/questions.js";
import { generateRoomCode, generateToken, hashToken } from "../domain/tokens.js";
import { type ActionObserver, type Caller, observe, rateLimited } from "./caller.js";
import type { Limits, PollStore } from "./ports.js";

export type CreatePoll = (caller: Caller, input: unknown) => Promise<PollView & { hostToken: string }>;

export function createPollUseCase({
  polls,
  limits,
  observer,
}: {
  polls: PollStore;
  limits: Limits;
  observer: ActionObserver;
}): CreatePoll {
  return (caller, input) =>
    observe(observer, "create-poll", caller, async () => {
      const { title, questions } = validatePollDefinition(input);
      const limit = await limits.consume("pollCreate", caller.address);
      if (!limit.allowed)
        throw rateLimited("too many polls from this address, slow down", limit.retryAfterMs);
      const id = randomUUID();
      const hostToken = generateToken("host");
      // 31^6 codes: a clash is rare, but when it happens the unique constraint decides and we draw again.
      for (let attempt = 0; attempt < 8; attempt++) {
        const roomCode = generateRoomCode();
        const stored = await polls.insertPoll({
          id,
          roomCode,
          ...(title === undefined ? {} : { title }),
          questions,
          hostTokenHash: hashToken(hostToken),
        });
        if (stored === "taken") continue;
        const view = toView({
          id,
          roomCode,
          title: title ?? null,
          questions,
          activeQuestion: 0,
          ...firstQuestionFields(questions),
          status: "open",
          hostTokenHash: "",
          ...stored,
        });
        return { ...view, hostToken };
      }
      throw new AppError("UNAVAILABLE", "could not allocate a room code, retry");
    });
}
