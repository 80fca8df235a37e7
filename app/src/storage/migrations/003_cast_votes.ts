import type { Migration } from "./index.js";

/**
 * One poll's vote batch as one server-side call. The batch used to be eight statements in a transaction, and
 * each round trip waited for a turn of the instance's busy event loop: that wait, not PostgreSQL, set the
 * batch cycle and so the ack latency. In PL/pgSQL the statements still run in order (each with its own
 * snapshot, taken after the poll row lock), but the instance waits once.
 *
 * Outcomes per vote, in batch order: created | unchanged | changed | not-allowed (a change on a poll without
 * allow_vote_change). Several votes of one participant in a batch act in order, as if sent one by one.
 */
export const m003CastVotes: Migration = {
  version: 3,
  name: "cast_votes",
  sql: `
CREATE FUNCTION zephyr_cast_votes(p_poll uuid, p_participants uuid[], p_options smallint[])
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_status text;
  v_allow boolean;
  v_outcomes text[];
  v_written integer;
  v_seq integer;
BEGIN
  -- Orders every batch of this poll, from any instance; the statements below see all earlier batches.
  SELECT status, allow_vote_change INTO v_status, v_allow FROM polls WHERE id = p_poll FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('poll', 'missing');
  END IF;
  IF v_status <> 'open' THEN
    RETURN jsonb_build_object('poll', 'closed');
  END IF;

  WITH batch AS (
    SELECT b.pid, b.opt, b.ord
    FROM unnest(p_participants, p_options) WITH ORDINALITY AS b(pid, opt, ord)
  ),
  existing AS (
    SELECT v.participant_id AS pid, v.option_position AS opt
    FROM votes v
    WHERE v.poll_id = p_poll AND v.participant_id = ANY (p_participants)
    FOR UPDATE
  ),
  -- prev: the participant's vote just before this one (earlier in the batch, else stored). Without vote
  -- changes only the stored vote or the participant's first vote in the batch can stand.
  ordered AS (
    SELECT b.ord, b.pid, b.opt, e.opt AS stored,
      CASE
        WHEN v_allow THEN coalesce(lag(b.opt) OVER w, e.opt)
        ELSE coalesce(e.opt, CASE WHEN row_number() OVER w > 1 THEN first_value(b.opt) OVER w END)
      END AS prev,
      row_number() OVER (PARTITION BY b.pid ORDER BY b.ord DESC) = 1 AS last_of_participant
    FROM batch b LEFT JOIN existing e USING (pid)
    WINDOW w AS (PARTITION BY b.pid ORDER BY b.ord)
  ),
  judged AS (
    SELECT o.*,
      CASE
        WHEN o.prev IS NULL THEN 'created'
        WHEN o.prev = o.opt THEN 'unchanged'
        WHEN NOT v_allow THEN 'not-allowed'
        ELSE 'changed'
      END AS outcome
    FROM ordered o
  ),
  -- The row each participant ends with, where it differs from what is stored.
  final AS (
    SELECT pid, opt, stored FROM judged
    WHERE (CASE WHEN v_allow THEN last_of_participant ELSE outcome = 'created' END)
      AND opt IS DISTINCT FROM stored
  ),
  written AS (
    INSERT INTO votes (poll_id, participant_id, option_position)
    SELECT p_poll, pid, opt FROM final
    ON CONFLICT (poll_id, participant_id)
      DO UPDATE SET option_position = EXCLUDED.option_position, updated_at = now()
    RETURNING 1
  ),
  delta AS (
    SELECT position, sum(d)::integer AS d
    FROM (
      SELECT opt AS position, 1 AS d FROM final
      UNION ALL
      SELECT stored, -1 FROM final WHERE stored IS NOT NULL
    ) moves
    GROUP BY position
    HAVING sum(d) <> 0
  ),
  -- Runs although nothing reads it: PostgreSQL executes every data-modifying WITH to completion.
  counted AS (
    UPDATE poll_options o SET vote_count = o.vote_count + delta.d
    FROM delta
    WHERE o.poll_id = p_poll AND o.position = delta.position
    RETURNING 1
  )
  SELECT array_agg(outcome ORDER BY ord), (SELECT count(*) FROM written)
  INTO v_outcomes, v_written
  FROM judged;

  IF v_written = 0 THEN
    RETURN jsonb_build_object('poll', 'open', 'outcomes', to_jsonb(v_outcomes));
  END IF;
  UPDATE polls SET results_version = results_version + 1 WHERE id = p_poll RETURNING results_version INTO v_seq;
  RETURN jsonb_build_object(
    'poll', 'open',
    'outcomes', to_jsonb(v_outcomes),
    'seq', v_seq,
    'counts', (SELECT jsonb_agg(vote_count ORDER BY position) FROM poll_options WHERE poll_id = p_poll),
    'participants', (SELECT count(*) FROM participants WHERE poll_id = p_poll)
  );
END
$fn$;
`,
};
