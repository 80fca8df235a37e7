import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { PoolStats } from "../storage/database.js";
import type { ActionObserver } from "../usecases/caller.js";

export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Every metric the service exports (docs/monitoring.md's metric catalogue is generated from this registry). A registry per instance keeps
 * tests that run several services in one process apart.
 */
export function createMetrics({ version, poolStats }: { version: string; poolStats: () => PoolStats }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests by method, route pattern and status code",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by method, route pattern and status code",
    labelNames: ["method", "route", "status"] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  const websocketConnections = new Gauge({
    name: "websocket_connections_current",
    help: "Socket.IO client connections currently held by this instance",
    registers: [registry],
  });
  const socketEvents = new Counter({
    name: "zephyr_socket_events_total",
    help: "Socket.IO events received, by event name",
    labelNames: ["event"] as const,
    registers: [registry],
  });
  const votesAccepted = new Counter({
    name: "zephyr_votes_accepted_total",
    help: "Answers (votes) acknowledged as durable, by transport and question type",
    labelNames: ["transport", "type"] as const,
    registers: [registry],
  });
  const votesRejected = new Counter({
    name: "zephyr_votes_rejected_total",
    help: "Answers (votes) refused, by transport, error code and question type (unknown when refused before the question was known)",
    labelNames: ["transport", "code", "type"] as const,
    registers: [registry],
  });
  const actions = new Counter({
    name: "zephyr_actions_total",
    help: "Use case calls (create-poll, join, vote, host, read) by transport and outcome (ok or the error code)",
    labelNames: ["action", "transport", "outcome"] as const,
    registers: [registry],
  });
  const retentionDeleted = new Counter({
    name: "zephyr_retention_deleted_polls_total",
    help: "Polls deleted (with their participants and answers) because they were inactive past the retention time",
    registers: [registry],
  });
  const broadcastMessages = new Counter({
    name: "zephyr_broadcast_messages_total",
    help: "vote-update messages delivered to sockets on this instance",
    registers: [registry],
  });
  const voteBroadcastLatency = new Histogram({
    name: "zephyr_vote_broadcast_latency_seconds",
    help: "Time from a vote reaching an instance to the vote-update that first includes it leaving this instance",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const voteBatchSize = new Histogram({
    name: "zephyr_vote_batch_size",
    help: "Votes written per group-commit transaction",
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const redisErrors = new Counter({
    name: "zephyr_redis_errors_total",
    help: "Redis errors by client (state, adapter, relay, presence, ratelimit)",
    labelNames: ["client"] as const,
    registers: [registry],
  });
  const relayMessagesReceived = new Counter({
    name: "zephyr_relay_messages_received_total",
    help: "Room news (results, status) received from Redis pub/sub: from another instance (peer) or this one's own echo (self); only rooms with members here are subscribed",
    labelNames: ["from"] as const,
    registers: [registry],
  });
  for (const from of ["peer", "self"] as const) relayMessagesReceived.inc({ from }, 0);
  const relayMessagesPublished = new Counter({
    name: "zephyr_relay_messages_published_total",
    help: "Room news (results, status) this instance published to Redis pub/sub, one channel per room",
    registers: [registry],
  });
  const rebalanceShed = new Counter({
    name: "zephyr_rebalance_shed_total",
    help: "Participant connections this instance closed to rebalance the fleet (each client reconnects through the load balancer)",
    registers: [registry],
  });
  const redisUp = new Gauge({
    name: "zephyr_redis_up",
    help: "1 when the Redis connections are ready, 0 otherwise (absent without Redis)",
    registers: [registry],
  });
  new Gauge({
    name: "zephyr_build_info",
    help: "Build information; always 1",
    labelNames: ["version"] as const,
    registers: [registry],
  }).set({ version }, 1);

  const poolGauge = (name: string, help: string, pick: (s: PoolStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(poolStats()));
      },
    });
  new Gauge({
    name: "zephyr_db_pool_connections",
    help: "Database pool connections by state",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const s = poolStats();
      this.set({ state: "idle" }, s.idle);
      this.set({ state: "active" }, s.total - s.idle);
    },
  });
  poolGauge("zephyr_db_pool_max_connections", "Database pool size limit", (s) => s.max);
  poolGauge(
    "zephyr_db_pool_waiting_requests",
    "Queries waiting for a free database connection",
    (s) => s.waiting,
  );

  return {
    registry,
    httpRequests,
    httpDuration,
    websocketConnections,
    socketEvents,
    votesAccepted,
    votesRejected,
    actions,
    retentionDeleted,
    broadcastMessages,
    voteBroadcastLatency,
    voteBatchSize,
    redisErrors,
    relayMessagesReceived,
    relayMessagesPublished,
    rebalanceShed,
    redisUp,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** What the use cases report, as metrics. */
export function useCaseObserver(metrics: Metrics): ActionObserver {
  return {
    done(action, transport, outcome, detail) {
      metrics.actions.inc({ action, transport, outcome });
      // The vote counters predate zephyr_actions_total; alerts and dashboards read them.
      if (action !== "vote") return;
      const type = detail?.questionType ?? "unknown";
      if (outcome === "ok") metrics.votesAccepted.inc({ transport, type });
      else metrics.votesRejected.inc({ transport, code: outcome, type });
    },
  };
}
