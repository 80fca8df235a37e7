import { z } from "zod";
import { bool, int, setting } from "./setting.js";

/** How polls, votes, results, presence, limits and shutdown behave. */
export const behaviourSettings = {
  polls: {
    participantCap: setting(
      "POLL_PARTICIPANT_CAP",
      int(1, 10_000_000).default(10_000),
      "Most participants one poll accepts; joins beyond it answer POLL_FULL",
    ),
    cacheMs: setting(
      "POLL_CACHE_MS",
      int(0, 60_000).default(1000),
      "Longest an instance reuses a poll's row and a participant token's owner for votes and joins (0 = always read); every vote batch re-checks the poll in PostgreSQL",
    ),
    retentionDays: setting(
      "RETENTION_DAYS",
      z.coerce.number().positive().max(36_500).default(30),
      "Polls are deleted, with their participants and answers, this many days after their last activity (fractions allowed)",
    ),
    retentionSweepMs: setting(
      "RETENTION_SWEEP_MS",
      int(0, 86_400_000).default(600_000),
      "How often one instance deletes expired polls, in small batches under an advisory lock (0 = never)",
    ),
  },
  votes: {
    batchMax: setting(
      "VOTE_BATCH_MAX",
      int(1, 10_000).default(500),
      "Most votes written in one group-commit transaction (1 = one transaction per vote)",
    ),
    batchWindowMs: setting(
      "VOTE_BATCH_WINDOW_MS",
      int(0, 1000).default(2),
      "How long the first vote of an idle poll waits for others to share its transaction (0 = only the rest of the event-loop turn); votes arriving during a write always form the next batch",
    ),
  },
  results: {
    broadcastIntervalMs: setting(
      "BROADCAST_INTERVAL_MS",
      int(0, 10_000).default(100),
      "Minimum gap between vote-update messages per room per instance (0 = one broadcast per change)",
    ),
    resyncMs: setting(
      "RESULTS_RESYNC_MS",
      int(0, 600_000).default(5000),
      "How often an instance re-reads results of rooms with local members, healing missed notifications (0 = never)",
    ),
    cacheMs: setting(
      "RESULTS_CACHE_MS",
      int(0, 60_000).default(250),
      "Longest an instance serves GET …/results from memory without a newer committed snapshot (0 = always read the database)",
    ),
  },
  presence: {
    syncMs: setting(
      "PRESENCE_SYNC_MS",
      int(100, 60_000).default(1000),
      "How often an instance publishes its connected participants and refreshes the online counts of its rooms",
    ),
    timeoutMs: setting(
      "PRESENCE_TIMEOUT_MS",
      int(1000, 600_000).default(15_000),
      "A participant whose instance stops confirming it (instance died) stops counting as online after this",
    ),
  },
  limits: {
    windowMs: setting(
      "RATE_LIMIT_WINDOW_MS",
      int(1000, 3_600_000).default(60_000),
      "Window of the per-address limits (whole seconds)",
    ),
    pollCreate: setting(
      "RATE_LIMIT_POLL_CREATE",
      int(1, 1_000_000).default(30),
      "Polls one client address may create per window",
    ),
    join: setting(
      "RATE_LIMIT_JOIN",
      int(1, 1_000_000).default(5000),
      "New participants one client address may add to one poll per window (a venue behind one NAT is one address)",
    ),
    joinPolls: setting(
      "RATE_LIMIT_JOIN_POLLS",
      int(1, 1_000_000).default(60),
      "Different polls one client address may add participants to per window",
    ),
    roomMiss: setting(
      "RATE_LIMIT_ROOM_MISS",
      int(1, 1_000_000).default(100),
      "Unknown room codes one client address may try per window (room-code guessing)",
    ),
    vote: setting(
      "RATE_LIMIT_VOTE",
      int(1, 1_000_000).default(30),
      "Votes one participant may submit per RATE_LIMIT_VOTE_WINDOW_MS, over any transport",
    ),
    voteWindowMs: setting(
      "RATE_LIMIT_VOTE_WINDOW_MS",
      int(1000, 3_600_000).default(10_000),
      "Window of RATE_LIMIT_VOTE (whole seconds)",
    ),
  },
  rebalance: {
    enabled: setting(
      "REBALANCE_ENABLED",
      bool.default(true),
      "With Redis: an instance holding more connections than the fleet's mean closes some participant connections (transport close; clients reconnect through the load balancer and re-join as themselves) until every instance is within REBALANCE_TOLERANCE of the mean. Pointless behind client-address affinity (the client comes straight back)",
    ),
    tolerance: setting(
      "REBALANCE_TOLERANCE",
      z.coerce.number().min(0.01).max(1).default(0.05),
      "How far from the mean (as a fraction of it) any instance's connections may be before instances above the mean shed; an instance never sheds below the mean",
    ),
    maxShedPerSecond: setting(
      "REBALANCE_MAX_SHED_PER_SECOND",
      int(1, 10_000).default(25),
      "Most connections one instance closes per second to rebalance (each interval sheds at most half its excess, jittered, and never more than this rate)",
    ),
    intervalMs: setting(
      "REBALANCE_INTERVAL_MS",
      int(500, 600_000).default(2000),
      "How often an instance publishes its connection count to Redis, reads its peers' and decides whether to shed",
    ),
  },
  shutdown: {
    drainWindowMs: setting(
      "DRAIN_WINDOW_MS",
      int(0, 600_000).default(5000),
      "After SIGTERM (and SHUTDOWN_DELAY_MS): spread closing client connections over this window",
    ),
    delayMs: setting(
      "SHUTDOWN_DELAY_MS",
      int(0, 600_000).default(0),
      "After SIGTERM: time spent unready but still serving, so load balancers stop routing here",
    ),
    timeoutMs: setting(
      "SHUTDOWN_TIMEOUT_MS",
      int(1000, 600_000).default(10_000),
      "After SIGTERM: hard limit for the whole shutdown, exit code 1 when exceeded",
    ),
  },
} as const;
