import { z } from "zod";
import { AppError } from "./errors.js";
import { LIMITS } from "./limits.js";

export { LIMITS };

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
// Printable ASCII is one grapheme per character; segmenting is the costliest step of validating a join.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const countGraphemes = (s: string) => {
  if (PRINTABLE_ASCII.test(s)) return s.length;
  let n = 0;
  for (const _ of graphemes.segment(s)) n++;
  return n;
};

// Control characters (NUL among them, which PostgreSQL text rejects) and lone surrogates never make sense in
// a question, an option or a nickname.
const CONTROL = /\p{Cc}/u;
export const text = (max: number, what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .transform((s) => s.normalize("NFC").trim())
    .pipe(
      z
        .string()
        .min(1, `${what} must not be empty`)
        .max(max, `${what} must be at most ${max} characters`)
        .refine(
          (s) => s.isWellFormed() && !CONTROL.test(s),
          `${what} contains characters that are not allowed`,
        ),
    );

// Letters, marks, digits, punctuation, symbols (emoji) and spaces, plus the joiners emoji sequences use.
const NICKNAME_CHARS = /^(?:[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}\u{E0020}-\u{E007F}]|\u200D)+$/u;

export const nicknameSchema = z
  .string({ error: "nickname must be a string" })
  .transform((s) => s.normalize("NFC").trim())
  .pipe(
    z
      .string()
      .min(1, "nickname must not be empty")
      .max(LIMITS.nicknameMaxCodeUnits, "nickname is too long")
      .refine(
        (s) => s.isWellFormed() && NICKNAME_CHARS.test(s),
        "nickname may contain letters, digits, punctuation, symbols, emoji and spaces only",
      )
      .refine(
        (s) => countGraphemes(s) <= LIMITS.nicknameMaxGraphemes,
        `nickname must be at most ${LIMITS.nicknameMaxGraphemes} characters`,
      ),
  );

/** The options of a choice question; `holder` names what has them in the messages ("poll" in the old contract). */
export const optionsSchema = (holder: "poll" | "question") =>
  z
    .array(text(LIMITS.optionMax, "option"), { error: "options must be an array of strings" })
    .min(LIMITS.optionsMin, `a ${holder} needs at least ${LIMITS.optionsMin} options`)
    .max(LIMITS.optionsMax, `a ${holder} has at most ${LIMITS.optionsMax} options`)
    .refine(
      (opts) => new Set(opts.map((o) => o.toLocaleLowerCase())).size === opts.length,
      "options must be unique",
    );

export const createPollSchema = z
  .object({
    question: text(LIMITS.questionMax, "question"),
    options: optionsSchema("poll"),
    allowVoteChange: z.boolean({ error: "allowVoteChange must be a boolean" }).optional().default(false),
  })
  .strict();

// Any string: one that cannot be a room code is simply not found (and counts as a miss).
const roomCode = z.string({ error: "roomCode must be a string" });
const token = (name: string) =>
  z
    .string({ error: `${name} must be a string` })
    .min(1, `${name} must not be empty`)
    .max(512);

/** join: a new participant (nickname) or the same one again on any connection (participantToken). */
export const joinInputSchema = z
  .object({
    roomCode,
    nickname: nicknameSchema.optional(),
    participantToken: token("participantToken").optional(),
  })
  .strict()
  .refine(
    (p) => p.nickname !== undefined || p.participantToken !== undefined,
    "nickname or participantToken is required",
  );

const questionIndex = z
  .number({ error: "questionIndex must be a number" })
  .int("questionIndex must be an integer")
  .min(0, "questionIndex must not be negative");

/**
 * An answer: roomCode and participantToken may be absent when the connection already joined (a socket session),
 * questionIndex when it is to the active question. The answer field that fits the question's type is checked
 * against the question (parseAnswer); here only that nothing else is sent.
 */
export const voteInputSchema = z
  .object({
    roomCode: roomCode.optional(),
    participantToken: token("participantToken").optional(),
    questionIndex: questionIndex.optional(),
    optionIndex: z.unknown().optional(),
    optionIndexes: z.unknown().optional(),
    value: z.unknown().optional(),
    entries: z.unknown().optional(),
    text: z.unknown().optional(),
  })
  .strict();

export const hostInputSchema = z.object({ roomCode, hostToken: token("hostToken").optional() }).strict();

/** A host action on one question (activate, hide, reveal) or on one open answer (approve, remove). */
export const hostQuestionInputSchema = hostInputSchema.extend({ questionIndex }).strict();
export const hostAnswerInputSchema = hostQuestionInputSchema
  .extend({ answerId: z.uuid({ error: "answerId must be an answer id" }) })
  .strict();

/** Results of one question (default: the active one); a host token shows what only hosts see. */
export const resultsInputSchema = z
  .object({ roomCode, questionIndex: questionIndex.optional(), hostToken: token("hostToken").optional() })
  .strict();

export const roomInputSchema = z.object({ roomCode }).strict();

export type CreatePollInput = z.output<typeof createPollSchema>;
export type JoinInput = z.input<typeof joinInputSchema>;
export type VoteInput = z.input<typeof voteInputSchema>;
export type HostInput = z.input<typeof hostInputSchema>;

/** Validates an unknown value, throwing VALIDATION_FAILED with every problem in one readable message. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const message = result.error.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.join(".");
      const msg = i.code === "unrecognized_keys" ? `unknown field(s): ${i.keys.join(", ")}` : i.message;
      return path ? `${path}: ${msg}` : msg;
    })
    .join("; ");
  throw new AppError("VALIDATION_FAILED", message);
}
