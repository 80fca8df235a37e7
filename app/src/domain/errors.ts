/**
 * The only error codes a client ever sees. Anything else is logged and reported as INTERNAL, so internal
 * details (SQL, stack traces, hostnames) never leave the process.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_OPTION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  POLL_NOT_FOUND: 404,
  ALREADY_ANSWERED: 409,
  NOT_JOINED: 409,
  POLL_CLOSED: 409,
  POLL_FULL: 409,
  QUESTION_NOT_ACTIVE: 409,
  VOTE_CHANGE_NOT_ALLOWED: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: { retryAfterMs?: number },
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/** Errors that mean "the database (or Redis) is not reachable right now", as opposed to a bug. */
export class UnavailableError extends AppError {
  constructor(message = "a backing service is unavailable, retry shortly", cause?: unknown) {
    super("UNAVAILABLE", message);
    this.cause = cause;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Maps any thrown value to a client-safe body; unknown errors become INTERNAL with a generic message. */
export function toClientError(err: unknown): AppError {
  if (isAppError(err)) return err;
  return new AppError("INTERNAL", "internal error");
}
