import type { Question } from "../domain/questions.js";
import type { ExportRow } from "../usecases/ports.js";
import type { Queryable } from "./database.js";

/**
 * Every answer of a poll, one row per chosen option, word entry or open answer, question by question, read in
 * pages with a keyset that the tables' primary keys serve (never the whole poll at once), so an export of a large
 * live poll streams in constant memory on PostgreSQL and PGlite alike. Each page is its own statement: answers
 * committed while the export runs appear if they sort after the rows already sent, which is what a live export
 * can promise.
 */
const PAGES: Record<"choice" | "word" | "open", string> = {
  choice: `SELECT v.participant_id::text AS pid, v.option_position::text AS k, p.nickname, o.label AS answer,
                  '' AS status, v.updated_at AS at
           FROM votes v
           JOIN poll_options o ON o.poll_id = v.poll_id AND o.question_position = v.question_position
             AND o.position = v.option_position
           JOIN participants p ON p.id = v.participant_id
           WHERE v.poll_id = $1 AND v.question_position = $2
             AND ($3::uuid IS NULL OR (v.participant_id, v.option_position) > ($3::uuid, $4::smallint))
           ORDER BY v.participant_id, v.option_position LIMIT $5`,
  word: `SELECT e.participant_id::text AS pid, e.word AS k, p.nickname, e.word AS answer, '' AS status,
                e.created_at AS at
         FROM word_entries e JOIN participants p ON p.id = e.participant_id
         WHERE e.poll_id = $1 AND e.question_position = $2
           AND ($3::uuid IS NULL OR (e.participant_id, e.word) > ($3::uuid, $4::text))
         ORDER BY e.participant_id, e.word LIMIT $5`,
  open: `SELECT a.participant_id::text AS pid, a.no::text AS k, p.nickname, a.text AS answer, a.status,
                a.created_at AS at
         FROM open_answers a JOIN participants p ON p.id = a.participant_id
         WHERE a.poll_id = $1 AND a.question_position = $2
           AND ($3::uuid IS NULL OR (a.participant_id, a.no) > ($3::uuid, $4::bigint))
         ORDER BY a.participant_id, a.no LIMIT $5`,
};

const pageOf = (type: Question["type"]) =>
  type === "wordcloud" ? PAGES.word : type === "open" ? PAGES.open : PAGES.choice;

export async function* exportRows(db: Queryable, pollId: string, pageSize = 1000): AsyncGenerator<ExportRow> {
  const questions = await db.query<{ position: number; type: Question["type"]; text: string }>(
    "SELECT position, type, text FROM questions WHERE poll_id = $1 ORDER BY position",
    [pollId],
  );
  for (const q of questions) {
    let after: { pid: string; k: string } | undefined;
    for (;;) {
      const rows = await db.query<{
        pid: string;
        k: string;
        nickname: string;
        answer: string;
        status: string;
        at: string | Date;
      }>(pageOf(q.type), [pollId, q.position, after?.pid ?? null, after?.k ?? null, pageSize]);
      for (const r of rows)
        yield {
          questionIndex: Number(q.position),
          type: q.type,
          question: q.text,
          nickname: r.nickname,
          answer: r.answer,
          status: r.status,
          answeredAt: new Date(r.at).toISOString(),
        };
      const last = rows.at(-1);
      if (!last || rows.length < pageSize) break;
      after = { pid: last.pid, k: last.k };
    }
  }
}
