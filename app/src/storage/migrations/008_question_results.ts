import { m006Questions } from "./006_questions.js";
import { m007WordsAndOpenAnswers } from "./007_words_and_open_answers.js";
import type { Migration } from "./index.js";
import { functionText } from "./sql-text.js";

/**
 * A cast (or join) as released, now replying with zephyr_question_results of `position` in place of the figures it
 * computed itself: computed in the same statement, under the poll row lock, after its writes.
 */
function replyingWithResults(sql: string, name: string, position: string): string {
  const text = functionText(sql, name);
  const reply = /'seq', v_seq,[\s\S]*?\n {2}\);\nEND/;
  if (!reply.test(text)) throw new Error(`migration 008: the reply of ${name} was not found`);
  return text.replace(
    reply,
    `'seq', v_seq,\n    'results', zephyr_question_results(p_poll, ${position})\n  );\nEND`,
  );
}

/**
 * One definition of "the results of a question" for every snapshot the service sends: a batch's reply, a join's,
 * a host action's and a fresh read all come from zephyr_question_results, so they agree on (seq, results) and on
 * whether the results are hidden. It is one query, so its reads see one database snapshot; called under the poll
 * row lock (after a cast or a join) it also sees exactly that transaction's writes.
 *
 * Choice and rating questions report their option counters, word clouds the top 100 words by count (ties by
 * code point) through the top index, open questions the newest 50 shown answers and, when answers wait for approval,
 * the oldest 50 pending ones (a moderation queue is worked through in arrival order).
 *
 * Every cast and the join batch reply with these results (`results`) when they changed something, so the writers
 * still need one round trip per batch, and the results are read while the batch holds the poll row lock.
 */
export const m008QuestionResults: Migration = {
  version: 8,
  name: "question_results",
  sql: `
-- Words tied on count are ordered by code point, the same in every database and locale; the top index follows.
ALTER TABLE word_counts ALTER COLUMN word TYPE text COLLATE "C";

-- plpgsql, not sql: PostgreSQL plans a non-inlined SQL function's query at every call, while plpgsql keeps the plan
-- for the session (measured: the join batch's PostgreSQL CPU per join went from 0.2 to 0.5 ms with the SQL version).
CREATE FUNCTION zephyr_question_results(p_poll uuid, p_position smallint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
  RETURN (SELECT jsonb_build_object(
    'question', q.position,
    'active', p.active_question,
    'questions', (SELECT count(*) FROM questions c WHERE c.poll_id = p.id),
    'type', q.type,
    'hidden', q.results_hidden,
    'seq', p.results_version,
    'participants', p.participant_count,
    'answered', q.answer_count,
    'shown', q.shown_count,
    'min', (q.settings ->> 'min')::integer,
    'counts', CASE WHEN q.type IN ('single', 'multiple', 'rating') THEN
      (SELECT coalesce(jsonb_agg(o.vote_count ORDER BY o.position), '[]'::jsonb) FROM poll_options o
       WHERE o.poll_id = p.id AND o.question_position = q.position) END,
    'words', CASE WHEN q.type = 'wordcloud' THEN
      (SELECT coalesce(jsonb_agg(jsonb_build_object('text', t.word, 'count', t.count) ORDER BY t.count DESC, t.word),
                       '[]'::jsonb)
       FROM (SELECT word, count FROM word_counts WHERE poll_id = p.id AND question_position = q.position
             ORDER BY count DESC, word LIMIT 100) t) END,
    'answers', CASE WHEN q.type = 'open' THEN
      (SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'text', t.text, 'nickname', t.nickname,
                                                    'createdAt', t.created_at) ORDER BY t.no DESC), '[]'::jsonb)
       FROM (SELECT a.id, a.text, a.created_at, a.no, n.nickname FROM open_answers a
             JOIN participants n ON n.id = a.participant_id
             WHERE a.poll_id = p.id AND a.question_position = q.position AND a.status = 'shown'
             ORDER BY a.no DESC LIMIT 50) t) END,
    'pending', CASE WHEN q.type = 'open' AND q.settings ->> 'moderation' = 'approve' THEN
      (SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'text', t.text, 'nickname', t.nickname,
                                                    'createdAt', t.created_at) ORDER BY t.no), '[]'::jsonb)
       FROM (SELECT a.id, a.text, a.created_at, a.no, n.nickname FROM open_answers a
             JOIN participants n ON n.id = a.participant_id
             WHERE a.poll_id = p.id AND a.question_position = q.position AND a.status = 'pending'
             ORDER BY a.no LIMIT 50) t) END
  )
  FROM polls p JOIN questions q ON q.poll_id = p.id AND q.position = coalesce(p_position, p.active_question)
  WHERE p.id = p_poll);
END
$fn$;

${replyingWithResults(m006Questions.sql, "zephyr_cast_choices", "p_question")}

${replyingWithResults(m007WordsAndOpenAnswers.sql, "zephyr_cast_words", "p_question")}

${replyingWithResults(m007WordsAndOpenAnswers.sql, "zephyr_cast_open_answers", "p_question")}

${replyingWithResults(m006Questions.sql, "zephyr_add_participants", "NULL")}
`,
};
