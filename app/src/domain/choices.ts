import type { Question } from "./questions.js";

/**
 * The labels of a choice question's option rows: its options, or the values of its scale. In a module of its own
 * (no zod) so the web pages label their result rows with the same function the service stores them with.
 */
export function choicesOf(q: Question): string[] {
  if (q.type === "single" || q.type === "multiple") return q.options;
  if (q.type === "rating") return Array.from({ length: q.max - q.min + 1 }, (_, i) => String(q.min + i));
  return [];
}
