import type { Migration } from "./index.js";

export const m001Initial: Migration = {
  version: 1,
  name: "initial",
  sql: `
CREATE TABLE polls (
  id uuid PRIMARY KEY,
  room_code text NOT NULL,
  question text NOT NULL,
  allow_vote_change boolean NOT NULL DEFAULT false,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  host_token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT polls_room_code_key UNIQUE (room_code)
);

-- vote_count is the O(options) read model of the votes table, kept in the same transaction as each vote and
-- rebuildable from it at any time (see rebuildCounts).
CREATE TABLE poll_options (
  poll_id uuid NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
  position smallint NOT NULL CHECK (position >= 0),
  label text NOT NULL,
  vote_count integer NOT NULL DEFAULT 0 CHECK (vote_count >= 0),
  PRIMARY KEY (poll_id, position)
);

CREATE TABLE participants (
  id uuid PRIMARY KEY,
  poll_id uuid NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
  nickname text NOT NULL,
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT participants_token_hash_key UNIQUE (token_hash),
  CONSTRAINT participants_poll_participant_key UNIQUE (poll_id, id)
);

-- The primary key is the "one vote per participant per poll" rule; the foreign keys make a vote for another
-- poll's participant or a non-existent option impossible whatever the application does.
CREATE TABLE votes (
  poll_id uuid NOT NULL,
  participant_id uuid NOT NULL,
  option_position smallint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (poll_id, participant_id),
  FOREIGN KEY (poll_id, participant_id) REFERENCES participants (poll_id, id) ON DELETE CASCADE,
  FOREIGN KEY (poll_id, option_position) REFERENCES poll_options (poll_id, position) ON DELETE CASCADE
);
CREATE INDEX votes_poll_option_idx ON votes (poll_id, option_position);
`,
};
