import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import {
  API_ROUTES,
  connectionImbalance,
  query,
  R,
  stat,
  timeseries,
  ZEPHYR,
  ZEPHYR_INSTANCES,
  zephyrDashboard,
} from "./common.js";

export function overview() {
  const d = zephyrDashboard({
    title: "Zephyr / Overview",
    uid: "zephyr-overview",
    description:
      "Traffic, latency, real-time delivery, runtime and dependencies of the Zephyr live-polling service",
    from: "now-3h",
  });

  d.withRow(new RowBuilder("Summary"))
    .withPanel(
      stat(
        "Instances up",
        "Scrape targets of the selected job that answered the last scrape.",
        "short",
        query(`sum(up{${ZEPHYR}})`, "up"),
      ),
    )
    .withPanel(
      stat(
        "Request rate",
        "All HTTP requests per second, probes included.",
        "reqps",
        query(`sum(rate(http_requests_total{${ZEPHYR_INSTANCES}}[${R}]))`, "requests/s"),
      ),
    )
    .withPanel(
      stat(
        "WebSocket connections",
        "Socket.IO connections held by the selected instances.",
        "short",
        query(`sum(websocket_connections_current{${ZEPHYR_INSTANCES}})`, "connections"),
      ),
    )
    .withPanel(
      stat(
        "Versions running",
        "Instances per build version; more than one version means a rollout is in progress.",
        "short",
        query(`count by (version) (zephyr_build_info{${ZEPHYR_INSTANCES}})`, "{{version}}"),
      ),
    );

  d.withRow(new RowBuilder("HTTP"))
    .withPanel(
      timeseries(
        "Request rate by instance",
        "HTTP requests per second handled by each instance; an even spread means the Service balances well.",
        "reqps",
        [query(`sum by (instance) (rate(http_requests_total{${ZEPHYR_INSTANCES}}[${R}]))`, "{{instance}}")],
        { min: 0, stack: true },
      ),
    )
    .withPanel(
      timeseries(
        "Latency p95 / p99",
        "API request latency (probes, /metrics and unmatched paths excluded). Dashed line: the 50 ms objective for p95.",
        "s",
        [
          query(
            `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${ZEPHYR_INSTANCES},${API_ROUTES}}[${R}])))`,
            "p95",
          ),
          query(
            `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${ZEPHYR_INSTANCES},${API_ROUTES}}[${R}])))`,
            "p99",
          ),
        ],
        { threshold: 0.05, min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "5xx ratio",
        "Share of API requests answered with a 5xx status. Dashed line: 5 %, where ZephyrHigh5xxRatio fires.",
        "percentunit",
        [
          // `or on() vector(0)`: no 5xx at all is a ratio of 0, not an empty graph.
          query(
            `(sum(rate(http_requests_total{${ZEPHYR_INSTANCES},${API_ROUTES},status=~"5.."}[${R}])) or on() vector(0)) / sum(rate(http_requests_total{${ZEPHYR_INSTANCES},${API_ROUTES}}[${R}]))`,
            "5xx ratio",
          ),
        ],
        { threshold: 0.05, min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "Requests by route and status",
        "Where the traffic goes and how it ends.",
        "reqps",
        [
          query(
            `sum by (route, status) (rate(http_requests_total{${ZEPHYR_INSTANCES}}[${R}]))`,
            "{{status}} {{route}}",
          ),
        ],
        { min: 0 },
      ),
    );

  d.withRow(new RowBuilder("WebSockets"))
    .withPanel(
      timeseries(
        "WebSocket connections by instance",
        "Socket.IO connections per instance. New pods only get new connections: after a scale-up they start low.",
        "short",
        [query(`sum by (instance) (websocket_connections_current{${ZEPHYR_INSTANCES}})`, "{{instance}}")],
        { min: 0 },
      ),
    )
    .withPanel(
      connectionImbalance(
        "Difference between the busiest and the quietest instance. Dashed line: 2000, where UnbalancedLoad fires after 5 minutes.",
      ),
    )
    .withPanel(
      timeseries(
        "Socket events",
        "Socket.IO events received per second, by event.",
        "ops",
        [query(`sum by (event) (rate(zephyr_socket_events_total{${ZEPHYR_INSTANCES}}[${R}]))`, "{{event}}")],
        { min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "Broadcast messages delivered",
        "Vote-update messages delivered to sockets per second, by instance: the fan-out cost of voting.",
        "ops",
        [
          query(
            `sum by (instance) (rate(zephyr_broadcast_messages_total{${ZEPHYR_INSTANCES}}[${R}]))`,
            "{{instance}}",
          ),
        ],
        { min: 0, stack: true },
      ),
    );

  d.withRow(new RowBuilder("Votes"))
    .withPanel(
      timeseries(
        "Votes per second",
        "Accepted votes by transport, and rejected votes by reason code.",
        "ops",
        [
          query(
            `sum by (transport) (rate(zephyr_votes_accepted_total{${ZEPHYR_INSTANCES}}[${R}]))`,
            "accepted ({{transport}})",
          ),
          query(
            `sum by (code) (rate(zephyr_votes_rejected_total{${ZEPHYR_INSTANCES}}[${R}]))`,
            "rejected {{code}}",
          ),
        ],
        { min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "Answers per second by question type",
        "Accepted answers by question type (single, multiple, rating, wordcloud, open): which part of a presentation the load comes from. A word-cloud answer writes one row per entry, an open answer one text.",
        "ops",
        [query(`sum by (type) (rate(zephyr_votes_accepted_total{${ZEPHYR_INSTANCES}}[${R}]))`, "{{type}}")],
        { min: 0, stack: true },
      ),
    )
    .withPanel(
      timeseries(
        "Vote-to-broadcast latency",
        "Time from an accepted vote to its vote-update broadcast. Dashed line: 250 ms, where ZephyrVoteBroadcastSlow fires on p95.",
        "s",
        [
          query(
            `histogram_quantile(0.5, sum by (le) (rate(zephyr_vote_broadcast_latency_seconds_bucket{${ZEPHYR_INSTANCES}}[${R}])))`,
            "p50",
          ),
          query(
            `histogram_quantile(0.95, sum by (le) (rate(zephyr_vote_broadcast_latency_seconds_bucket{${ZEPHYR_INSTANCES}}[${R}])))`,
            "p95",
          ),
          query(
            `histogram_quantile(0.99, sum by (le) (rate(zephyr_vote_broadcast_latency_seconds_bucket{${ZEPHYR_INSTANCES}}[${R}])))`,
            "p99",
          ),
        ],
        { threshold: 0.25, min: 0 },
      ),
    );

  d.withRow(new RowBuilder("Runtime"))
    .withPanel(
      timeseries(
        "Heap used by instance",
        "V8 heap in use. Steady growth without more connections points at a leak.",
        "bytes",
        [query(`sum by (instance) (nodejs_heap_size_used_bytes{${ZEPHYR_INSTANCES}})`, "{{instance}}")],
        { min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "Event-loop lag p99",
        "Delay of the Node.js event loop; every request and socket message on the instance waits this long. Dashed line: 100 ms, where ZephyrEventLoopLagHigh fires.",
        "s",
        [query(`max by (instance) (nodejs_eventloop_lag_p99_seconds{${ZEPHYR_INSTANCES}})`, "{{instance}}")],
        { threshold: 0.1, min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "CPU by instance",
        "CPU time per second; 100 % is one core, which is where a single Node.js process saturates.",
        "percentunit",
        [
          query(
            `sum by (instance) (rate(process_cpu_seconds_total{${ZEPHYR_INSTANCES}}[${R}]))`,
            "{{instance}}",
          ),
        ],
        { min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "Resident memory by instance",
        "Process memory as the kernel sees it; compare with the container memory limit.",
        "bytes",
        [query(`sum by (instance) (process_resident_memory_bytes{${ZEPHYR_INSTANCES}})`, "{{instance}}")],
        { min: 0 },
      ),
    );

  d.withRow(new RowBuilder("Dependencies"))
    .withPanel(
      timeseries(
        "Redis adapter up",
        "1 while the instance is connected to Redis; 0 means votes on it are not broadcast to other instances. Absent when Redis is not configured.",
        "bool_yes_no",
        [query(`min by (instance) (zephyr_redis_up{${ZEPHYR_INSTANCES}})`, "{{instance}}")],
        { min: 0, width: 8 },
      ),
    )
    .withPanel(
      timeseries(
        "Redis errors",
        "Redis errors per second by client connection (adapter publisher/subscriber, state).",
        "ops",
        [
          // `or on() vector(0)`: an error counter that never moved has no series yet; show 0 instead of nothing.
          query(
            `sum by (client) (rate(zephyr_redis_errors_total{${ZEPHYR_INSTANCES}}[${R}])) or on() vector(0)`,
            "{{client}}",
          ),
        ],
        { min: 0, width: 8 },
      ),
    )
    .withPanel(
      timeseries(
        "Database pool",
        "Connections in use and idle, the pool limit, and queries waiting for a connection (summed over the selected instances).",
        "short",
        [
          query(`sum by (state) (zephyr_db_pool_connections{${ZEPHYR_INSTANCES}})`, "{{state}}"),
          query(`sum(zephyr_db_pool_max_connections{${ZEPHYR_INSTANCES}})`, "max"),
          query(`sum(zephyr_db_pool_waiting_requests{${ZEPHYR_INSTANCES}})`, "waiting"),
        ],
        { min: 0, width: 8 },
      ),
    );

  return d;
}
