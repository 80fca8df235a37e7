import type { Question, QuestionResults } from "../domain/questions.js";
import type { Queryable } from "./database.js";

export const TOP_WORDS = 100;
export const NEWEST_ANSWERS = 50;

/**
 * Results of one question as the room sees them, read from the counters the casts keep (option rows, word counts,
 * shown open answers), never by counting answers: choice counts and the participants who answered; a rating's
 * distribution over its scale and its average; the top 100 words by count, ties by text; the newest 50 shown
 * open answers with nicknames. The host also sees open answers waiting for approval, with their status.
 */
export async function readQuestionResults(
  db: Queryable,
  pollId: string,
  position: number,
  question: Question,
  { host = false }: { host?: boolean } = {},
): Promise<QuestionResults> {
  const [q] = await db.query<{ answered: number; shown: number }>(
    "SELECT answer_count AS answered, shown_count AS shown FROM questions WHERE poll_id = $1 AND position = $2",
    [pollId, position],
  );
  const answered = Number(q?.answered ?? 0);
  switch (question.type) {
    case "single":
    case "multiple":
    case "rating": {
      const rows = await db.query<{ vote_count: number }>(
        "SELECT vote_count FROM poll_options WHERE poll_id = $1 AND question_position = $2 ORDER BY position",
        [pollId, position],
      );
      const counts = rows.map((r) => Number(r.vote_count));
      if (question.type !== "rating") return { type: question.type, counts, total: answered };
      return {
        type: "rating",
        distribution: counts,
        average: averageOf(counts, question.min),
        total: answered,
      };
    }
    case "wordcloud": {
      const rows = await db.query<{ word: string; count: number }>(
        `SELECT word, count FROM word_counts WHERE poll_id = $1 AND question_position = $2
         ORDER BY count DESC, word LIMIT ${TOP_WORDS}`,
        [pollId, position],
      );
      return {
        type: "wordcloud",
        words: rows.map((r) => ({ text: r.word, count: Number(r.count) })),
        total: answered,
      };
    }
    case "open": {
      const rows = await db.query<{
        id: string;
        text: string;
        nickname: string;
        created_at: string | Date;
        status: "shown" | "pending";
      }>(
        `SELECT a.id, a.text, p.nickname, a.created_at, a.status FROM open_answers a
         JOIN participants p ON p.id = a.participant_id
         WHERE a.poll_id = $1 AND a.question_position = $2 AND a.status = ANY ($3::text[])
         ORDER BY a.no DESC LIMIT ${NEWEST_ANSWERS}`,
        [pollId, position, host ? ["shown", "pending"] : ["shown"]],
      );
      return {
        type: "open",
        answers: rows.map((r) => ({
          id: r.id,
          text: r.text,
          nickname: r.nickname,
          createdAt: new Date(r.created_at).toISOString(),
          ...(host ? { status: r.status } : {}),
        })),
        total: Number(q?.shown ?? 0),
      };
    }
  }
}

/** Mean of a scale starting at `min`, to two decimals; null before anyone answered. */
export function averageOf(distribution: number[], min: number): number | null {
  const n = distribution.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const sum = distribution.reduce((a, c, i) => a + c * (min + i), 0);
  return Math.round((100 * sum) / n) / 100;
}
