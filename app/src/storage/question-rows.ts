import { choicesOf, type Question } from "../domain/questions.js";

/**
 * How a question is stored: `type`, `text` and `allow_vote_change` as columns, what only some types have in
 * `settings`, and the options of choice questions (a rating's scale values) as option rows, where the counters
 * live. Both directions are here so that what is written is exactly what is read.
 */

export interface QuestionRow {
  position: number;
  type: Question["type"];
  text: string;
  allowVoteChange: boolean;
  settings: Record<string, unknown>;
  options: string[] | null;
}

/** What insertPoll writes: the question row, and the labels of its option rows (none for word clouds and open). */
export function toQuestionRow(
  q: Question,
  position: number,
): Omit<QuestionRow, "options"> & { choices: string[] } {
  const { type, text } = q;
  const allowVoteChange = "allowVoteChange" in q ? q.allowVoteChange : false;
  const settings: Record<string, unknown> = { ...q };
  for (const k of ["type", "text", "allowVoteChange", "options"]) delete settings[k];
  return { position, type, text, allowVoteChange, settings, choices: choicesOf(q) };
}

export function fromQuestionRow(r: QuestionRow): Question {
  const s = r.settings ?? {};
  switch (r.type) {
    case "single":
      return { type: "single", text: r.text, options: r.options ?? [], allowVoteChange: r.allowVoteChange };
    case "multiple":
      return {
        type: "multiple",
        text: r.text,
        options: r.options ?? [],
        maxChoices: Number(s.maxChoices ?? r.options?.length ?? 0),
        allowVoteChange: r.allowVoteChange,
      };
    case "rating":
      return {
        type: "rating",
        text: r.text,
        min: Number(s.min) === 1 ? 1 : 0,
        max: Number(s.max),
        ...(s.labels ? { labels: s.labels as { min?: string; max?: string } } : {}),
        allowVoteChange: r.allowVoteChange,
      };
    case "wordcloud":
      return { type: "wordcloud", text: r.text, maxEntries: Number(s.maxEntries) };
    case "open":
      return { type: "open", text: r.text, moderation: s.moderation === "approve" ? "approve" : "none" };
  }
}

/** The questions of poll `p` in order, with their option labels, as one JSON array. */
export const QUESTIONS_JSON = `(SELECT json_agg(json_build_object(
    'position', q.position, 'type', q.type, 'text', q.text, 'allowVoteChange', q.allow_vote_change,
    'settings', q.settings,
    'options', (SELECT json_agg(o.label ORDER BY o.position) FROM poll_options o
                WHERE o.poll_id = q.poll_id AND o.question_position = q.position AND q.type IN ('single', 'multiple')))
  ORDER BY q.position) FROM questions q WHERE q.poll_id = p.id)`;
