import { AppError, type ErrorCode, toClientError } from "../domain/errors.js";
import type { QuestionType } from "../domain/questions.js";

export type Transport = "http" | "socket";

/** Who asks, as far as the transport knows: the same facts reach every use case whatever the transport. */
export interface Caller {
  transport: Transport;
  /** Client address for rate limits (X-Forwarded-For already resolved by the transport). */
  address: string;
  /**
   * A participant this connection already authenticated (a socket after join-poll); null on a connection that
   * could hold one but has not joined yet; absent where connections hold none (HTTP).
   */
  session?: { participantId: string; pollId: string; roomCode: string } | null;
}

export type Action = "create-poll" | "join" | "vote" | "host" | "read";

/** What a call learned on its way that its outcome is reported with (an answer: its question's type). */
export interface ActionDetail {
  questionType?: QuestionType;
}

/** What a use case reports about each call; metrics implement it. */
export interface ActionObserver {
  done(action: Action, transport: Transport, code: ErrorCode | "ok", detail?: ActionDetail): void;
}

/** Runs one use case call and reports its outcome with the transport it came from. */
export async function observe<T>(
  observer: ActionObserver,
  action: Action,
  caller: Caller,
  run: (detail: ActionDetail) => Promise<T>,
): Promise<T> {
  const detail: ActionDetail = {};
  try {
    const result = await run(detail);
    observer.done(action, caller.transport, "ok", detail);
    return result;
  } catch (err) {
    observer.done(action, caller.transport, toClientError(err).code, detail);
    throw err;
  }
}

export const rateLimited = (message: string, retryAfterMs: number) =>
  new AppError("RATE_LIMITED", message, { retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)) });

/** Plain objects only: a JSON array or a primitive is never a valid payload. */
export function asObject(value: unknown, what = "payload"): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new AppError("VALIDATION_FAILED", `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}
