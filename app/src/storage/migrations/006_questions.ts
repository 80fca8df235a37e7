import { m005AddParticipants } from "./005_add_participants.js";
import type { Migration } from "./index.js";
import { patch } from "./sql-text.js";

/**
 * A poll becomes a sequence of questions the presenter steps through (`active_question`). Every existing poll is
 * one `single` question at position 0 with its options, votes and counts, so nothing already stored changes
 * meaning. Choice answers (single, multiple, rating) share one shape: a participant's answer to a question is a
 * set of option rows in `votes`, and the option rows keep the counters, so every choice type is counted the same
 * way. `answer_count` is how many participants answered the question (the `total` of a multiple-choice question,
 * where counts add up to more).
 *
 * zephyr_cast_choices takes a batch of answers to one question as bit masks of option positions (at most 11
 * positions: ten options or a 0..10 scale), so a single choice is one bit and comparing two answers is comparing
 * two integers. zephyr_cast_votes stays as the one-question call on position 0, and zephyr_add_participants now
 * reports the active question's results.
 */
export const m006Questions: Migration = {
  version: 6,
  name: "questions",
  sql: `
ALTER TABLE polls ADD COLUMN title text;
ALTER TABLE polls ADD COLUMN active_question smallint NOT NULL DEFAULT 0 CHECK (active_question >= 0);

CREATE TABLE questions (
  poll_id uuid NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
  position smallint NOT NULL CHECK (position >= 0 AND position < 50),
  type text NOT NULL CHECK (type IN ('single', 'multiple', 'rating', 'wordcloud', 'open')),
  text text NOT NULL,
  allow_vote_change boolean NOT NULL DEFAULT false,
  -- maxChoices, min, max, labels, maxEntries, moderation: what each type needs, validated by the service.
  settings jsonb NOT NULL DEFAULT '{}',
  results_hidden boolean NOT NULL DEFAULT false,
  answer_count integer NOT NULL DEFAULT 0 CHECK (answer_count >= 0),
  PRIMARY KEY (poll_id, position)
);
INSERT INTO questions (poll_id, position, type, text, allow_vote_change, answer_count)
SELECT p.id, 0, 'single', p.question, p.allow_vote_change, (SELECT count(*) FROM votes v WHERE v.poll_id = p.id)
FROM polls p;

ALTER TABLE votes DROP CONSTRAINT votes_poll_id_option_position_fkey;
ALTER TABLE poll_options ADD COLUMN question_position smallint NOT NULL DEFAULT 0;
ALTER TABLE poll_options DROP CONSTRAINT poll_options_pkey;
ALTER TABLE poll_options ADD PRIMARY KEY (poll_id, question_position, position);
ALTER TABLE poll_options ADD FOREIGN KEY (poll_id, question_position) REFERENCES questions (poll_id, position)
  ON DELETE CASCADE;

ALTER TABLE votes ADD COLUMN question_position smallint NOT NULL DEFAULT 0;
ALTER TABLE votes DROP CONSTRAINT votes_pkey;
ALTER TABLE votes ADD PRIMARY KEY (poll_id, question_position, participant_id, option_position);
ALTER TABLE votes ADD FOREIGN KEY (poll_id, question_position, option_position)
  REFERENCES poll_options (poll_id, question_position, position) ON DELETE CASCADE;
DROP INDEX votes_poll_option_idx;
CREATE INDEX votes_question_option_idx ON votes (poll_id, question_position, option_position);

CREATE FUNCTION zephyr_cast_choices(p_poll uuid, p_question smallint, p_participants uuid[], p_masks integer[])
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_status text;
  v_active smallint;
  v_allow boolean;
  v_outcomes text[];
  v_written integer;
  v_seq integer;
BEGIN
  -- Orders every batch and host action of this poll, from any instance; what follows sees all earlier ones.
  SELECT status, active_question INTO v_status, v_active FROM polls WHERE id = p_poll FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('poll', 'missing');
  END IF;
  IF v_status <> 'open' THEN
    RETURN jsonb_build_object('poll', 'closed');
  END IF;
  IF v_active <> p_question THEN
    RETURN jsonb_build_object('poll', 'open', 'question', 'not-active');
  END IF;
  SELECT allow_vote_change INTO v_allow FROM questions WHERE poll_id = p_poll AND position = p_question;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('poll', 'open', 'question', 'missing');
  END IF;

  WITH batch AS (
    SELECT b.pid, b.mask, b.ord
    FROM unnest(p_participants, p_masks) WITH ORDINALITY AS b(pid, mask, ord)
  ),
  existing AS (
    SELECT v.participant_id AS pid, bit_or(1 << v.option_position) AS mask
    FROM votes v
    WHERE v.poll_id = p_poll AND v.question_position = p_question AND v.participant_id = ANY (p_participants)
    GROUP BY v.participant_id
  ),
  -- prev: the participant's answer just before this one (earlier in the batch, else stored). Without answer
  -- changes only the stored answer or the participant's first answer in the batch can stand.
  ordered AS (
    SELECT b.ord, b.pid, b.mask, e.mask AS stored,
      CASE
        WHEN v_allow THEN coalesce(lag(b.mask) OVER w, e.mask)
        ELSE coalesce(e.mask, CASE WHEN row_number() OVER w > 1 THEN first_value(b.mask) OVER w END)
      END AS prev,
      row_number() OVER (PARTITION BY b.pid ORDER BY b.ord DESC) = 1 AS last_of_participant
    FROM batch b LEFT JOIN existing e USING (pid)
    WINDOW w AS (PARTITION BY b.pid ORDER BY b.ord)
  ),
  judged AS (
    SELECT o.*,
      CASE
        WHEN o.prev IS NULL THEN 'created'
        WHEN o.prev = o.mask THEN 'unchanged'
        WHEN NOT v_allow THEN 'not-allowed'
        ELSE 'changed'
      END AS outcome
    FROM ordered o
  ),
  -- The answer each participant ends with, where it differs from what is stored.
  final AS (
    SELECT pid, mask, stored FROM judged
    WHERE (CASE WHEN v_allow THEN last_of_participant ELSE outcome = 'created' END)
      AND mask IS DISTINCT FROM stored
  ),
  -- Option rows leaving and joining each answer: only the difference is written, so an option kept from the
  -- stored answer is neither deleted nor inserted again.
  moves AS (
    SELECT f.pid, bit.pos::smallint AS position,
      CASE WHEN f.mask & (1 << bit.pos) <> 0 THEN 1 ELSE -1 END AS d
    FROM final f CROSS JOIN generate_series(0, 15) AS bit(pos)
    WHERE (f.mask # coalesce(f.stored, 0)) & (1 << bit.pos) <> 0
  ),
  removed AS (
    DELETE FROM votes v USING moves m
    WHERE m.d = -1 AND v.poll_id = p_poll AND v.question_position = p_question
      AND v.participant_id = m.pid AND v.option_position = m.position
    RETURNING 1
  ),
  added AS (
    INSERT INTO votes (poll_id, question_position, participant_id, option_position)
    SELECT p_poll, p_question, m.pid, m.position FROM moves m WHERE m.d = 1
    RETURNING 1
  ),
  delta AS (
    SELECT position, sum(d)::integer AS d FROM moves GROUP BY position HAVING sum(d) <> 0
  ),
  -- removed, added, counted and answered run although nothing reads them: PostgreSQL executes every
  -- data-modifying WITH to completion.
  counted AS (
    UPDATE poll_options o SET vote_count = o.vote_count + delta.d
    FROM delta
    WHERE o.poll_id = p_poll AND o.question_position = p_question AND o.position = delta.position
    RETURNING 1
  ),
  answered AS (
    UPDATE questions q SET answer_count = q.answer_count + (SELECT count(*) FROM final WHERE stored IS NULL)
    WHERE q.poll_id = p_poll AND q.position = p_question AND EXISTS (SELECT 1 FROM final WHERE stored IS NULL)
    RETURNING 1
  )
  SELECT array_agg(outcome ORDER BY ord), (SELECT count(*) FROM final)
  INTO v_outcomes, v_written
  FROM judged;

  IF v_written = 0 THEN
    RETURN jsonb_build_object('poll', 'open', 'outcomes', to_jsonb(v_outcomes));
  END IF;
  UPDATE polls SET results_version = results_version + 1, last_activity_at = now() WHERE id = p_poll
  RETURNING results_version INTO v_seq;
  RETURN jsonb_build_object(
    'poll', 'open',
    'outcomes', to_jsonb(v_outcomes),
    'seq', v_seq,
    'counts', (SELECT jsonb_agg(vote_count ORDER BY position) FROM poll_options
               WHERE poll_id = p_poll AND question_position = p_question),
    'answered', (SELECT answer_count FROM questions WHERE poll_id = p_poll AND position = p_question),
    'participants', (SELECT participant_count FROM polls WHERE id = p_poll)
  );
END
$fn$;

-- The single-question call of migrations 003/004, now one case of the above.
CREATE OR REPLACE FUNCTION zephyr_cast_votes(p_poll uuid, p_participants uuid[], p_options smallint[])
RETURNS jsonb
LANGUAGE sql
AS $fn$
  SELECT zephyr_cast_choices(p_poll, 0::smallint, p_participants,
    ARRAY(SELECT 1 << t.o FROM unnest(p_options) WITH ORDINALITY AS t(o, ord) ORDER BY t.ord))
$fn$;

${patch(
  patch(m005AddParticipants.sql, "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
  "'counts', (SELECT jsonb_agg(vote_count ORDER BY position) FROM poll_options WHERE poll_id = p_poll)",
  `'question', (SELECT active_question FROM polls WHERE id = p_poll),
    'answered', (SELECT q.answer_count FROM questions q JOIN polls p ON p.id = q.poll_id
                 AND p.active_question = q.position WHERE q.poll_id = p_poll),
    'counts', (SELECT jsonb_agg(o.vote_count ORDER BY o.position) FROM poll_options o
               JOIN polls p ON p.id = o.poll_id AND p.active_question = o.question_position
               WHERE o.poll_id = p_poll)`,
)}
`,
};
