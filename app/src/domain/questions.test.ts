import { describe, expect, it } from "vitest";
import { isAppError } from "./errors.js";
import { choicesOf, normaliseWord, validatePollDefinition } from "./questions.js";

const refusal = (input: unknown): string => {
  try {
    validatePollDefinition(input);
  } catch (err) {
    if (isAppError(err) && err.code === "VALIDATION_FAILED") return err.message;
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
};

describe("poll definitions", () => {
  it("reads the original single-question shape as one single-choice question", () => {
    expect(validatePollDefinition({ question: " Lunch? ", options: ["Pizza", "Salad"] })).toEqual({
      questions: [{ type: "single", text: "Lunch?", options: ["Pizza", "Salad"], allowVoteChange: false }],
    });
  });

  it("fills each type's defaults", () => {
    const d = validatePollDefinition({
      title: "Retro",
      questions: [
        { type: "multiple", text: "Which?", options: ["a", "b", "c"] },
        { type: "rating", text: "How?", min: 1, max: 5, labels: { min: "meh", max: "great" } },
        { type: "wordcloud", text: "One word" },
        { type: "open", text: "Questions?" },
      ],
    });
    expect(d.title).toBe("Retro");
    expect(d.questions).toEqual([
      { type: "multiple", text: "Which?", options: ["a", "b", "c"], maxChoices: 3, allowVoteChange: false },
      {
        type: "rating",
        text: "How?",
        min: 1,
        max: 5,
        labels: { min: "meh", max: "great" },
        allowVoteChange: false,
      },
      { type: "wordcloud", text: "One word", maxEntries: 3 },
      { type: "open", text: "Questions?", moderation: "none" },
    ]);
    expect(d.questions.map(choicesOf)).toEqual([["a", "b", "c"], ["1", "2", "3", "4", "5"], [], []]);
  });

  it.each([
    [{ questions: [] }, "at least one question"],
    [{ questions: Array.from({ length: 51 }, () => ({ type: "open", text: "x" })) }, "at most 50 questions"],
    [{ questions: [{ type: "poll", text: "x" }] }, "type must be one of"],
    [
      { questions: [{ type: "multiple", text: "x", options: ["a", "b"], maxChoices: 3 }] },
      "maxChoices must not exceed",
    ],
    [
      { questions: [{ type: "multiple", text: "x", options: ["a", "b"], maxChoices: 1 }] },
      "maxChoices must be at least 2",
    ],
    [{ questions: [{ type: "rating", text: "x", min: 2, max: 5 }] }, "min must be 0 or 1"],
    [{ questions: [{ type: "rating", text: "x", min: 0, max: 11 }] }, "max must be at most 10"],
    [{ questions: [{ type: "wordcloud", text: "x", maxEntries: 6 }] }, "maxEntries must be at most 5"],
    [
      { questions: [{ type: "open", text: "x", moderation: "later" }] },
      'moderation must be "none" or "approve"',
    ],
    [{ questions: [{ type: "single", text: "x".repeat(301), options: ["a", "b"] }] }, "at most 300"],
    [{ questions: [{ type: "single", text: "x", options: ["a", "A"] }] }, "options must be unique"],
    [{ questions: [{ type: "open", text: "x", extra: 1 }] }, "unknown field(s): extra"],
    [{ question: "x", options: ["a", "b"], questions: [] }, "unknown field(s): question, options"],
  ])("refuses %j with a message naming the problem", (input, message) => {
    expect(refusal(input)).toContain(message);
  });

  it("names the question and field that is wrong", () => {
    expect(
      refusal({
        questions: [
          { type: "open", text: "ok" },
          { type: "rating", text: "", min: 1, max: 5 },
        ],
      }),
    ).toMatch(/^questions\.1\.text: /);
  });
});

describe("word-cloud entries", () => {
  it.each([
    ["  Hello   World ", "hello world"],
    ["STRASSE", "strasse"],
    ["Straße", "strasse"],
    // Lower-casing keeps the Greek final sigma, so upper- and lower-case spellings meet on the form people write.
    ["ΟΔΟΣ", "οδος"],
    ["Οδος", "οδος"],
    ["e\u0301t\u00e9", "\u00e9t\u00e9"],
    ["tab\tand\nnewline", "tab and newline"],
  ])("%j counts as %j", (entry, word) => {
    expect(normaliseWord(entry)).toBe(word);
  });
});
