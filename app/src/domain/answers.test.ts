import { describe, expect, it } from "vitest";
import { type AnswerFields, parseAnswer } from "./answers.js";
import { isAppError } from "./errors.js";
import { type Question, questionSchema } from "./questions.js";

const q = (def: unknown): Question => questionSchema.parse(def);
const single = q({ type: "single", text: "s", options: ["a", "b", "c"] });
const multiple = q({ type: "multiple", text: "m", options: ["a", "b", "c", "d"], maxChoices: 2 });
const rating = q({ type: "rating", text: "r", min: 1, max: 5 });
const cloud = q({ type: "wordcloud", text: "w", maxEntries: 3 });
const open = q({ type: "open", text: "o" });

const refusal = (question: Question, fields: AnswerFields) => {
  try {
    parseAnswer(question, fields);
  } catch (err) {
    if (isAppError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  throw new Error("accepted");
};

describe("answers", () => {
  it("turns each type's answer into what is stored", () => {
    expect(parseAnswer(single, { optionIndex: 2 })).toEqual({ kind: "choice", mask: 0b100 });
    expect(parseAnswer(multiple, { optionIndexes: [3, 0] })).toEqual({ kind: "choice", mask: 0b1001 });
    expect(parseAnswer(rating, { value: 1 })).toEqual({ kind: "choice", mask: 0b1 });
    expect(parseAnswer(rating, { value: 5 })).toEqual({ kind: "choice", mask: 0b10000 });
    expect(parseAnswer(cloud, { entries: [" Blue  Sky ", "GREEN"] })).toEqual({
      kind: "words",
      words: ["blue sky", "green"],
    });
    expect(parseAnswer(open, { text: "  Why 42? 🤔 مرحبا ' OR 1=1 -- " })).toEqual({
      kind: "text",
      text: "Why 42? 🤔 مرحبا ' OR 1=1 --",
    });
  });

  it.each([
    [
      single,
      { value: 1 },
      "VALIDATION_FAILED: value: not an answer to a single question; optionIndex is required",
    ],
    [single, {}, "VALIDATION_FAILED: optionIndex is required for a single question"],
    [single, { optionIndex: 3 }, "INVALID_OPTION: optionIndex must be between 0 and 2"],
    [single, { optionIndex: 1.5 }, "VALIDATION_FAILED: optionIndex must be an integer"],
    [multiple, { optionIndexes: [] }, "VALIDATION_FAILED: optionIndexes: must not be empty"],
    [
      multiple,
      { optionIndexes: [0, 1, 2] },
      "VALIDATION_FAILED: optionIndexes: at most 2 options may be chosen",
    ],
    [multiple, { optionIndexes: [1, 1] }, "VALIDATION_FAILED: optionIndexes must not repeat an option"],
    [multiple, { optionIndexes: [0, 9] }, "INVALID_OPTION: optionIndexes[] must be between 0 and 3"],
    [multiple, { optionIndex: 0 }, "VALIDATION_FAILED: optionIndex: not an answer to a multiple question"],
    [rating, { value: 0 }, "INVALID_OPTION: value must be between 1 and 5"],
    [rating, { value: "5" }, "VALIDATION_FAILED: value must be a number"],
    [cloud, { entries: [] }, "VALIDATION_FAILED: entries: must not be empty"],
    [cloud, { entries: ["a", "b", "c", "d"] }, "VALIDATION_FAILED: entries: at most 3 entries"],
    [cloud, { entries: ["Sky", " sky "] }, "VALIDATION_FAILED: entries must be different words"],
    [cloud, { entries: ["   "] }, "VALIDATION_FAILED: entries.0: entry must not be empty"],
    [
      cloud,
      { entries: ["x".repeat(41)] },
      "VALIDATION_FAILED: entries.0: entry must be at most 40 characters",
    ],
    [
      cloud,
      { entries: ["bell\u0007"] },
      "VALIDATION_FAILED: entries.0: entry contains characters that are not allowed",
    ],
    [cloud, { entries: "sky" }, "VALIDATION_FAILED: entries: must be an array of strings"],
    [open, { text: "x".repeat(10_000) }, "VALIDATION_FAILED: text must be at most 280 characters"],
    [open, { text: "nul\u0000" }, "VALIDATION_FAILED: text contains characters that are not allowed"],
  ])("refuses %#: %j", (question, fields, message) => {
    expect(refusal(question as Question, fields as AnswerFields)).toContain(message);
  });
});
