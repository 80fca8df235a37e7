import { z } from "zod";
import { AppError } from "./errors.js";
import { normaliseWord, type Question } from "./questions.js";
import { LIMITS, text, validate } from "./schemas.js";

/**
 * What a participant's answer becomes once checked against its question: choice questions (single, multiple,
 * rating) become a set of option positions as a bit mask, word clouds a list of distinct normalised words, open
 * questions one text. The shape is chosen by the question's type; a field that belongs to another type is
 * named in the error, so a client that sends `optionIndex` to a rating question learns to send `value`.
 */
export type Answer =
  | { kind: "choice"; mask: number }
  | { kind: "words"; words: string[] }
  | { kind: "text"; text: string };

const ANSWER_FIELDS = ["optionIndex", "optionIndexes", "value", "entries", "text"] as const;
type AnswerField = (typeof ANSWER_FIELDS)[number];

const FIELD_OF: Record<Question["type"], AnswerField> = {
  single: "optionIndex",
  multiple: "optionIndexes",
  rating: "value",
  wordcloud: "entries",
  open: "text",
};

const int = (what: string) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be an integer`);

// Checked as typed (control characters refused, 1..40 characters), then counted in its normalised form.
const wordEntry = text(LIMITS.wordMax, "entry").transform(normaliseWord);

/** The answer fields of a submission (the rest, roomCode and tokens, belong to the transport's schema). */
export type AnswerFields = Partial<Record<AnswerField, unknown>>;

// Built once: zod schemas are cheap to run and costly to build, and this is the hot path of every answer.
const optionIndexSchema = int("optionIndex");
const valueSchema = int("value");
const openTextSchema = text(LIMITS.openAnswerMax, "text");
/** Schemas that depend on a question's limit, one per limit value (a handful exist). */
const byLimit = <T>(build: (limit: number) => T) => {
  const built = new Map<number, T>();
  return (limit: number): T => {
    let schema = built.get(limit);
    if (!schema) {
      schema = build(limit);
      built.set(limit, schema);
    }
    return schema;
  };
};
const optionIndexesSchema = byLimit((max) =>
  z.object({
    optionIndexes: z
      .array(int("each option index"), { error: "must be an array of numbers" })
      .min(1, "must not be empty")
      .max(max, `at most ${max} options may be chosen`),
  }),
);
const entriesSchema = byLimit((max) =>
  z.object({
    entries: z
      .array(wordEntry, { error: "must be an array of strings" })
      .min(1, "must not be empty")
      .max(max, `at most ${max} entries`),
  }),
);

export function parseAnswer(question: Question, fields: AnswerFields): Answer {
  const expected = FIELD_OF[question.type];
  const present = ANSWER_FIELDS.filter((f) => fields[f] !== undefined);
  const wrong = present.filter((f) => f !== expected);
  if (wrong.length > 0 || present.length === 0)
    throw new AppError(
      "VALIDATION_FAILED",
      `${wrong.length > 0 ? `${wrong.join(", ")}: not an answer to a ${question.type} question; ` : ""}${expected} is required for a ${question.type} question`,
    );
  const value = fields[expected];
  switch (question.type) {
    case "single": {
      const i = validate(optionIndexSchema, value);
      return { kind: "choice", mask: 1 << inRange(i, question.options.length, "optionIndex") };
    }
    case "multiple": {
      // Validated as an object field so that a problem names its element (`optionIndexes.1: ...`).
      const chosen = validate(optionIndexesSchema(question.maxChoices), {
        optionIndexes: value,
      }).optionIndexes;
      if (new Set(chosen).size !== chosen.length)
        throw new AppError("VALIDATION_FAILED", "optionIndexes must not repeat an option");
      return {
        kind: "choice",
        mask: chosen.reduce((m, i) => m | (1 << inRange(i, question.options.length, "optionIndexes[]")), 0),
      };
    }
    case "rating": {
      const v = validate(valueSchema, value);
      if (v < question.min || v > question.max)
        throw new AppError("INVALID_OPTION", `value must be between ${question.min} and ${question.max}`);
      return { kind: "choice", mask: 1 << (v - question.min) };
    }
    case "wordcloud": {
      const words = validate(entriesSchema(question.maxEntries), { entries: value }).entries;
      if (new Set(words).size !== words.length)
        throw new AppError("VALIDATION_FAILED", "entries must be different words");
      return { kind: "words", words };
    }
    case "open":
      return { kind: "text", text: validate(openTextSchema, value) };
  }
}

function inRange(i: number, n: number, what: string): number {
  if (i < 0 || i >= n) throw new AppError("INVALID_OPTION", `${what} must be between 0 and ${n - 1}`);
  return i;
}

/** The set bits of a mask, lowest first: the option positions of a stored choice. */
export function setBits(mask: number): number[] {
  const out: number[] = [];
  for (let m = mask; m !== 0; m &= m - 1) out.push(31 - Math.clz32(m & -m));
  return out;
}

/** A stored choice in the field its question type is answered with (what a client sent). */
export function choiceFields(
  question: Question,
  mask: number,
): { optionIndex: number } | { optionIndexes: number[] } | { value: number } {
  const chosen = setBits(mask);
  if (question.type === "multiple") return { optionIndexes: chosen };
  if (question.type === "rating") return { value: question.min + (chosen[0] ?? 0) };
  return { optionIndex: chosen[0] ?? 0 };
}
