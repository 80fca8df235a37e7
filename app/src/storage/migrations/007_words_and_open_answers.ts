import type { Migration } from "./index.js";

/**
 * Word clouds and open answers, written like choices: one call per batch of one question, under the poll row
 * lock, with the counters the results read kept in the same transaction.
 *
 * Word cloud: a participant submits once (a later submission, in the batch or after it, is `already-answered`);
 * each distinct normalised word of a submission adds one to `word_counts`, which the results read top-down
 * through its index instead of counting entries.
 *
 * Open answers: up to p_limit per participant (beyond is `limit`); with moderation `approve` an answer waits as
 * `pending` until the host shows it. `questions.shown_count` counts the answers the room can see.
 */
export const m007WordsAndOpenAnswers: Migration = {
  version: 7,
  name: "words_and_open_answers",
  sql: `
ALTER TABLE questions ADD COLUMN shown_count integer NOT NULL DEFAULT 0 CHECK (shown_count >= 0);

CREATE TABLE word_entries (
  poll_id uuid NOT NULL,
  question_position smallint NOT NULL,
  participant_id uuid NOT NULL,
  word text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (poll_id, question_position, participant_id, word),
  FOREIGN KEY (poll_id, question_position) REFERENCES questions (poll_id, position) ON DELETE CASCADE,
  FOREIGN KEY (poll_id, participant_id) REFERENCES participants (poll_id, id) ON DELETE CASCADE
);

CREATE TABLE word_counts (
  poll_id uuid NOT NULL,
  question_position smallint NOT NULL,
  word text NOT NULL,
  count integer NOT NULL CHECK (count >= 0),
  PRIMARY KEY (poll_id, question_position, word),
  FOREIGN KEY (poll_id, question_position) REFERENCES questions (poll_id, position) ON DELETE CASCADE
);
CREATE INDEX word_counts_top_idx ON word_counts (poll_id, question_position, count DESC, word);

CREATE TABLE open_answers (
  id uuid PRIMARY KEY,
  -- Arrival order, also within one batch (whose rows share created_at).
  no bigint GENERATED ALWAYS AS IDENTITY,
  poll_id uuid NOT NULL,
  question_position smallint NOT NULL,
  participant_id uuid NOT NULL,
  text text NOT NULL,
  status text NOT NULL CHECK (status IN ('shown', 'pending', 'removed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (poll_id, question_position) REFERENCES questions (poll_id, position) ON DELETE CASCADE,
  FOREIGN KEY (poll_id, participant_id) REFERENCES participants (poll_id, id) ON DELETE CASCADE
);
CREATE INDEX open_answers_newest_idx ON open_answers (poll_id, question_position, status, no DESC);
CREATE INDEX open_answers_participant_idx ON open_answers (poll_id, question_position, participant_id);

-- Checks shared by both casts: the poll is there and open, and the question is the active one of this type.
CREATE FUNCTION zephyr_answer_target(p_poll uuid, p_question smallint, p_type text) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  v_status text;
  v_active smallint;
BEGIN
  SELECT status, active_question INTO v_status, v_active FROM polls WHERE id = p_poll FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('poll', 'missing');
  ELSIF v_status <> 'open' THEN
    RETURN jsonb_build_object('poll', 'closed');
  ELSIF v_active <> p_question
     OR NOT EXISTS (SELECT 1 FROM questions WHERE poll_id = p_poll AND position = p_question AND type = p_type) THEN
    RETURN jsonb_build_object('poll', 'open', 'question', 'not-active');
  END IF;
  RETURN NULL;
END
$fn$;

-- p_words: one JSON array of distinct normalised words per submission, in batch order.
CREATE FUNCTION zephyr_cast_words(p_poll uuid, p_question smallint, p_participants uuid[], p_words jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_refused jsonb;
  v_outcomes text[];
  v_accepted integer;
  v_seq integer;
BEGIN
  v_refused := zephyr_answer_target(p_poll, p_question, 'wordcloud');
  IF v_refused IS NOT NULL THEN
    RETURN v_refused;
  END IF;

  WITH batch AS (
    SELECT b.pid, b.ord, p_words -> (b.ord::integer - 1) AS words
    FROM unnest(p_participants) WITH ORDINALITY AS b(pid, ord)
  ),
  judged AS (
    SELECT b.*,
      CASE
        WHEN EXISTS (SELECT 1 FROM word_entries e
                     WHERE e.poll_id = p_poll AND e.question_position = p_question AND e.participant_id = b.pid)
          OR row_number() OVER (PARTITION BY b.pid ORDER BY b.ord) > 1 THEN 'already-answered'
        ELSE 'created'
      END AS outcome
    FROM batch b
  ),
  accepted AS (
    SELECT DISTINCT j.pid, w.word FROM judged j CROSS JOIN jsonb_array_elements_text(j.words) AS w(word)
    WHERE j.outcome = 'created'
  ),
  entered AS (
    INSERT INTO word_entries (poll_id, question_position, participant_id, word)
    SELECT p_poll, p_question, pid, word FROM accepted
    RETURNING 1
  ),
  counted AS (
    INSERT INTO word_counts AS c (poll_id, question_position, word, count)
    SELECT p_poll, p_question, word, count(*) FROM accepted GROUP BY word
    ON CONFLICT (poll_id, question_position, word) DO UPDATE SET count = c.count + EXCLUDED.count
    RETURNING 1
  )
  SELECT array_agg(outcome ORDER BY ord), count(*) FILTER (WHERE outcome = 'created')
  INTO v_outcomes, v_accepted
  FROM judged;

  IF v_accepted = 0 THEN
    RETURN jsonb_build_object('poll', 'open', 'outcomes', to_jsonb(v_outcomes));
  END IF;
  UPDATE questions SET answer_count = answer_count + v_accepted WHERE poll_id = p_poll AND position = p_question;
  UPDATE polls SET results_version = results_version + 1, last_activity_at = now() WHERE id = p_poll
  RETURNING results_version INTO v_seq;
  RETURN jsonb_build_object(
    'poll', 'open',
    'outcomes', to_jsonb(v_outcomes),
    'seq', v_seq,
    'answered', (SELECT answer_count FROM questions WHERE poll_id = p_poll AND position = p_question),
    'participants', (SELECT participant_count FROM polls WHERE id = p_poll),
    'words', (SELECT coalesce(jsonb_agg(jsonb_build_object('text', t.word, 'count', t.count)
                                        ORDER BY t.count DESC, t.word), '[]'::jsonb)
              FROM (SELECT word, count FROM word_counts
                    WHERE poll_id = p_poll AND question_position = p_question
                    ORDER BY count DESC, word LIMIT 100) t)
  );
END
$fn$;

-- Open answers in batch order: p_ids are the answers' ids (made by the service), p_limit answers per participant.
CREATE FUNCTION zephyr_cast_open_answers(
  p_poll uuid, p_question smallint, p_ids uuid[], p_participants uuid[], p_texts text[], p_limit integer
) RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_refused jsonb;
  v_status text;
  v_outcomes text[];
  v_shown integer;
  v_new_people integer;
  v_accepted integer;
  v_seq integer;
BEGIN
  v_refused := zephyr_answer_target(p_poll, p_question, 'open');
  IF v_refused IS NOT NULL THEN
    RETURN v_refused;
  END IF;
  SELECT CASE WHEN settings ->> 'moderation' = 'approve' THEN 'pending' ELSE 'shown' END INTO v_status
  FROM questions WHERE poll_id = p_poll AND position = p_question;

  WITH batch AS (
    SELECT b.id, b.pid, b.txt, b.ord
    FROM unnest(p_ids, p_participants, p_texts) WITH ORDINALITY AS b(id, pid, txt, ord)
  ),
  before AS (
    SELECT participant_id AS pid, count(*) AS n FROM open_answers
    WHERE poll_id = p_poll AND question_position = p_question AND participant_id = ANY (p_participants)
    GROUP BY participant_id
  ),
  judged AS (
    SELECT b.*, coalesce(x.n, 0) AS earlier,
      CASE WHEN coalesce(x.n, 0) + row_number() OVER (PARTITION BY b.pid ORDER BY b.ord) > p_limit
        THEN 'limit' ELSE 'created' END AS outcome
    FROM batch b LEFT JOIN before x USING (pid)
  ),
  inserted AS (
    INSERT INTO open_answers (id, poll_id, question_position, participant_id, text, status)
    SELECT id, p_poll, p_question, pid, txt, v_status FROM judged WHERE outcome = 'created' ORDER BY ord
    RETURNING 1
  )
  SELECT array_agg(outcome ORDER BY ord),
         count(*) FILTER (WHERE outcome = 'created'),
         count(DISTINCT pid) FILTER (WHERE outcome = 'created' AND earlier = 0)
  INTO v_outcomes, v_accepted, v_new_people
  FROM judged;

  IF v_accepted = 0 THEN
    RETURN jsonb_build_object('poll', 'open', 'outcomes', to_jsonb(v_outcomes));
  END IF;
  UPDATE questions SET answer_count = answer_count + v_new_people,
    shown_count = shown_count + CASE WHEN v_status = 'shown' THEN v_accepted ELSE 0 END
  WHERE poll_id = p_poll AND position = p_question
  RETURNING shown_count INTO v_shown;
  UPDATE polls SET results_version = results_version + 1, last_activity_at = now() WHERE id = p_poll
  RETURNING results_version INTO v_seq;
  RETURN jsonb_build_object(
    'poll', 'open',
    'outcomes', to_jsonb(v_outcomes),
    'seq', v_seq,
    'shown', v_shown,
    'answers', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'text', t.text, 'nickname', t.nickname,
                                                             'createdAt', t.created_at) ORDER BY t.no DESC), '[]'::jsonb)
                FROM (SELECT a.id, a.text, a.created_at, a.no, p.nickname FROM open_answers a
                      JOIN participants p ON p.id = a.participant_id
                      WHERE a.poll_id = p_poll AND a.question_position = p_question AND a.status = 'shown'
                      ORDER BY a.no DESC LIMIT 50) t),
    'answered', (SELECT answer_count FROM questions WHERE poll_id = p_poll AND position = p_question),
    'participants', (SELECT participant_count FROM polls WHERE id = p_poll)
  );
END
$fn$;
`,
};
