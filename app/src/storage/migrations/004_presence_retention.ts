import { m003CastVotes } from "./003_cast_votes.js";
import type { Migration } from "./index.js";

/** Replaces `from` in `text`, refusing to build a migration from a text that no longer contains it. */
function patch(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`migration 004: expected text not found: ${from}`);
  return text.replace(from, to);
}

/**
 * participant_count: the join path checks the per-poll cap and every snapshot reports participants without a
 * count(*) over the participants table (which made a join storm quadratic). last_activity_at drives retention.
 * zephyr_cast_votes is redefined from migration 003's text with exactly these two changes, so the vote rules
 * stay stated once.
 */
export const m004PresenceRetention: Migration = {
  version: 4,
  name: "participant_count_last_activity",
  sql: `
ALTER TABLE polls ADD COLUMN participant_count integer NOT NULL DEFAULT 0 CHECK (participant_count >= 0);
ALTER TABLE polls ADD COLUMN last_activity_at timestamptz NOT NULL DEFAULT now();
UPDATE polls p SET
  participant_count = (SELECT count(*) FROM participants WHERE poll_id = p.id),
  last_activity_at = greatest(
    p.updated_at,
    (SELECT max(created_at) FROM participants WHERE poll_id = p.id),
    (SELECT max(updated_at) FROM votes WHERE poll_id = p.id));
CREATE INDEX polls_last_activity_idx ON polls (last_activity_at);
${patch(
  patch(
    patch(m003CastVotes.sql, "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
    "UPDATE polls SET results_version = results_version + 1 WHERE id = p_poll",
    "UPDATE polls SET results_version = results_version + 1, last_activity_at = now() WHERE id = p_poll",
  ),
  "'participants', (SELECT count(*) FROM participants WHERE poll_id = p_poll)",
  "'participants', (SELECT participant_count FROM polls WHERE id = p_poll)",
)}
`,
};
