import type { Migration } from "./index.js";

export const m002ResultsVersion: Migration = {
  version: 2,
  name: "results_version",
  sql: `
-- Bumped by every vote transaction that changes the counts: the seq of vote-update messages. Reading it
-- together with the counters gives a consistent, totally ordered snapshot across instances.
ALTER TABLE polls ADD COLUMN results_version integer NOT NULL DEFAULT 0;
`,
};
