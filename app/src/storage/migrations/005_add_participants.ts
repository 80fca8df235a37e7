import type { Migration } from "./index.js";

/**
 * zephyr_add_participants: a batch of new participants of one poll in one statement. The poll row lock orders
 * it with vote batches and other join batches on every instance, so the cap holds exactly and the snapshot it
 * returns (version, counts, participants) is consistent. Participants are admitted in array order until the
 * cap: the first `added` of the batch are in, the rest found the poll full.
 */
export const m005AddParticipants: Migration = {
  version: 5,
  name: "add_participants",
  sql: `
CREATE FUNCTION zephyr_add_participants(
  p_poll uuid, p_ids uuid[], p_nicknames text[], p_token_hashes text[], p_cap integer
) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  v_count integer;
  v_seq integer;
  v_added integer;
BEGIN
  SELECT participant_count, results_version INTO v_count, v_seq FROM polls WHERE id = p_poll FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('poll', 'missing');
  END IF;
  v_added := greatest(0, least(cardinality(p_ids), p_cap - v_count));
  IF v_added > 0 THEN
    INSERT INTO participants (id, poll_id, nickname, token_hash)
    SELECT t.id, p_poll, t.nickname, t.token_hash
    FROM unnest(p_ids[1:v_added], p_nicknames[1:v_added], p_token_hashes[1:v_added]) AS t(id, nickname, token_hash);
    UPDATE polls SET participant_count = participant_count + v_added, last_activity_at = now()
    WHERE id = p_poll RETURNING participant_count INTO v_count;
  END IF;
  RETURN jsonb_build_object(
    'poll', 'present',
    'added', v_added,
    'seq', v_seq,
    'participants', v_count,
    'counts', (SELECT jsonb_agg(vote_count ORDER BY position) FROM poll_options WHERE poll_id = p_poll)
  );
END
$fn$;
`,
};
