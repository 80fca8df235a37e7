import { z } from "zod";
import { type CreatePollInput, createPollSchema, LIMITS, optionsSchema, text, validate } from "./schemas.js";

/**
 * The question types of a presentation and what a participant may answer to each. A poll is a sequence of
 * questions; the old single-question poll is the one-question case, so its contract stays valid.
 */

const allowVoteChange = z.boolean({ error: "allowVoteChange must be a boolean" }).optional().default(false);

const options = optionsSchema("question");

const questionText = text(LIMITS.questionMax, "text");
const int = (what: string) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be an integer`);

const single = z.object({ type: z.literal("single"), text: questionText, options, allowVoteChange }).strict();

const multiple = z
  .object({
    type: z.literal("multiple"),
    text: questionText,
    options,
    maxChoices: int("maxChoices").min(2, "maxChoices must be at least 2").optional(),
    allowVoteChange,
  })
  .strict()
  .refine((q) => q.maxChoices === undefined || q.maxChoices <= q.options.length, {
    message: "maxChoices must not exceed the number of options",
    path: ["maxChoices"],
  })
  .transform((q) => ({ ...q, maxChoices: q.maxChoices ?? q.options.length }));

const rating = z
  .object({
    type: z.literal("rating"),
    text: questionText,
    min: z.union([z.literal(0), z.literal(1)], { error: "min must be 0 or 1" }),
    max: int("max")
      .min(2, "max must be at least 2")
      .max(LIMITS.ratingMaxTop, `max must be at most ${LIMITS.ratingMaxTop}`),
    labels: z
      .object({
        min: text(LIMITS.optionMax, "labels.min").optional(),
        max: text(LIMITS.optionMax, "labels.max").optional(),
      })
      .strict()
      .optional(),
    allowVoteChange,
  })
  .strict();

const wordcloud = z
  .object({
    type: z.literal("wordcloud"),
    text: questionText,
    maxEntries: int("maxEntries")
      .min(1, "maxEntries must be at least 1")
      .max(LIMITS.wordEntriesMax, `maxEntries must be at most ${LIMITS.wordEntriesMax}`)
      .optional()
      .default(LIMITS.wordEntriesDefault),
  })
  .strict();

const open = z
  .object({
    type: z.literal("open"),
    text: questionText,
    moderation: z
      .enum(["none", "approve"], { error: 'moderation must be "none" or "approve"' })
      .optional()
      .default("none"),
  })
  .strict();

export const questionSchema = z.discriminatedUnion("type", [single, multiple, rating, wordcloud, open], {
  error: 'type must be one of "single", "multiple", "rating", "wordcloud", "open"',
});

export type Question = z.output<typeof questionSchema>;
export type QuestionType = Question["type"];

export { choicesOf } from "./choices.js";

/**
 * A word-cloud entry as it is counted and shown: Unicode NFC, case-folded (upper then lower case folds ß to ss as
 * full case folding does, while a word-final sigma stays ς so Greek reads as written), trimmed, inner whitespace
 * collapsed to one space.
 */
export const normaliseWord = (entry: string): string =>
  entry.normalize("NFC").toUpperCase().toLowerCase().normalize("NFC").trim().replace(/\s+/gu, " ");

const presentation = z
  .object({
    title: text(LIMITS.questionMax, "title").optional(),
    questions: z
      .array(questionSchema, { error: "questions must be an array of questions" })
      .min(1, "a poll needs at least one question")
      .max(LIMITS.questionsMax, `a poll has at most ${LIMITS.questionsMax} questions`),
  })
  .strict();

export type PollDefinition = z.output<typeof presentation>;

/**
 * What `POST /api/polls` takes: `{title?, questions}`, or the original `{question, options, allowVoteChange?}`
 * as shorthand for one single-choice question. The shape is chosen by the `questions` field, so each gets its
 * own precise error messages.
 */
export function validatePollDefinition(input: unknown): PollDefinition {
  if (input !== null && typeof input === "object" && "questions" in input)
    return validate(presentation, input);
  return singleQuestion(validate(createPollSchema, input));
}

/** The original poll shape as what it is: a poll of one single-choice question. */
export function singleQuestion(p: CreatePollInput): PollDefinition {
  return {
    questions: [{ type: "single", text: p.question, options: p.options, allowVoteChange: p.allowVoteChange }],
  };
}

/** Results of one question as clients see them (participants who answered in `total`, shown answers for open). */
export type QuestionResults =
  | { type: "single" | "multiple"; counts: number[]; total: number }
  | { type: "rating"; distribution: number[]; average: number | null; total: number }
  | { type: "wordcloud"; words: Array<{ text: string; count: number }>; total: number }
  | { type: "open"; answers: OpenAnswer[]; total: number };

export interface OpenAnswer {
  id: string;
  text: string;
  nickname: string;
  createdAt: string;
  /** Host results only: shown, or pending approval. */
  status?: "shown" | "pending";
}
