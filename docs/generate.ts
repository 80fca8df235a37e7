/**
 * The doc tables that mirror code are generated here, never edited by hand: a hand-kept copy of the
 * configuration schema, the error codes, the metric registry or the alert rules drifts the first time someone
 * changes the code and not the page. `npm run docs` rewrites every block between its markers;
 * docs/docs.test.ts regenerates them and fails while a committed block differs.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { posix, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { collectDefaultMetrics, Registry } from "prom-client";
import { parse } from "yaml";
import { configMarkdownTable } from "../app/src/config/docs.js";
import { ERROR_STATUS, type ErrorCode } from "../app/src/domain/errors.js";
import { createMetrics } from "../app/src/metrics/index.js";
import { sizingTable, unitCosts, unitCostTable } from "../loadtest/bench/capacity-model.js";
import { REPO_ROOT, repoPath } from "./markdown.js";
import { parseRun, timelineMarkdown } from "./timeline.js";

/** When a client gets each code. The code and its status come from ERROR_STATUS; only the meaning lives here. */
export const ERROR_DESCRIPTIONS = {
  VALIDATION_FAILED: "malformed JSON, wrong types, unknown fields, limits (the message names the field)",
  INVALID_OPTION:
    "`optionIndex` or an `optionIndexes` entry outside `0..options-1`, a rating `value` outside `min..max`",
  UNAUTHORIZED: "token missing, not a Bearer token, or an unknown participant token",
  FORBIDDEN: "wrong host token, or a participant token of another poll",
  NOT_FOUND: "no such route, or no such open answer to approve or remove",
  POLL_NOT_FOUND: "unknown or deleted room code",
  NOT_JOINED: "Socket.IO only: `submit-vote` before `join-poll`",
  POLL_CLOSED: "vote on a closed poll",
  POLL_FULL: "join of a new participant to a poll that has `POLL_PARTICIPANT_CAP` participants already",
  ALREADY_ANSWERED:
    "a second word-cloud submission, or an open answer beyond the three a participant may give to one question",
  QUESTION_NOT_ACTIVE: "an answer to a question other than the one the presenter has active",
  VOTE_CHANGE_NOT_ALLOWED: "changing a vote where the poll does not allow it",
  PAYLOAD_TOO_LARGE: "body over `BODY_LIMIT_BYTES`",
  RATE_LIMITED:
    "over a rate limit: polls from one address, new participants from one address in one poll or across too many polls, votes of one participant (any transport), unknown room codes from one address (HTTP answers carry `Retry-After`); see [rate limits](architecture.md#rate-limits-and-their-threat-model)",
  INTERNAL: "a bug; details are only in the server log",
  UNAVAILABLE: "PostgreSQL (or Redis) unreachable right now; retry",
} as const satisfies Record<ErrorCode, string>;

export function errorCodeTable(): string {
  const rows = (Object.entries(ERROR_STATUS) as [ErrorCode, number][]).map(
    ([code, status]) => `| \`${code}\` | ${status} | ${ERROR_DESCRIPTIONS[code]} |`,
  );
  return ["| Code | Status | When |", "| --- | --- | --- |", ...rows].join("\n");
}

/**
 * What each of Zephyr's own metrics is for (label values, which alert or panel reads it). Name, type, labels,
 * help and buckets come from the registry. Links are relative to docs/monitoring.md, where the catalogue sits.
 */
export const METRIC_NOTES: Record<string, string> = {
  http_requests_total:
    "Request rate, 5xx ratio, traffic by route; the HPA's `http_requests_per_second` per pod (through prometheus-adapter, probes and scrapes left out). `route` is the route pattern (e.g. `/api/polls/:roomCode/votes`), `unmatched` for unknown paths, so the label stays bounded.",
  http_request_duration_seconds:
    "Latency percentiles and the 50 ms objective: 0.05 is a bucket boundary, so the SLO ratio is exact, not interpolated.",
  websocket_connections_current:
    "The HPA's custom metric (per pod, through prometheus-adapter) and the `UnbalancedLoad` alert.",
  zephyr_socket_events_total: "Socket.IO traffic by event name.",
  zephyr_votes_accepted_total: "Votes recorded; `transport` is `http` or `socket`.",
  zephyr_votes_rejected_total:
    "Votes refused and why; `code` is an [error code](http-api.md#error-codes). `UNAVAILABLE` is the service's fault, the others the client's.",
  zephyr_broadcast_messages_total: "The fan-out work.",
  zephyr_actions_total:
    "Every use case call by `action` (create-poll, join, vote, host, read), `transport` (http, socket) and `outcome` (`ok` or an [error code](http-api.md#error-codes)): the same numbers whichever transport clients use.",
  zephyr_retention_deleted_polls_total:
    "The retention policy at work: polls deleted `RETENTION_DAYS` after their last activity, counted once across instances.",
  zephyr_vote_broadcast_latency_seconds: "How far screens lag behind the room (`ZephyrVoteBroadcastSlow`).",
  zephyr_vote_batch_size: "1 everywhere = naive mode (`VOTE_BATCH_MAX=1`) or no load.",
  zephyr_redis_errors_total: "Cross-instance delivery and shared state degrading before they break.",
  zephyr_relay_messages_received_total:
    "Per-room fan-out at work: an instance hears only its own rooms' news, so this follows its rooms, not the whole fleet's traffic.",
  zephyr_rebalance_shed_total:
    "Rebalancing at work after a scale-up; steady shedding with UnbalancedLoad still firing means an affinity sends clients back.",
  zephyr_relay_messages_published_total:
    "The fleet's room news; compared with what each instance receives it shows how much per-room fan-out saves.",
  zephyr_redis_up:
    "Cross-instance delivery works only while it is 1 (`ZephyrRedisDown`); absent without Redis, so a single instance never alerts.",
  zephyr_db_pool_connections: "Database pool usage; `state` is `idle` or `active`.",
  zephyr_db_pool_max_connections: "`DB_POOL_SIZE`; active / max is the saturation the alert reads.",
  zephyr_db_pool_waiting_requests: "Queries queue here once the pool is exhausted.",
  zephyr_build_info:
    "Running version (more than one = a rollout); the dashboards discover the `job` from it.",
};

interface RegisteredMetric {
  name: string;
  help: string;
  type: string;
  labelNames?: readonly string[];
  upperBounds?: readonly number[];
}

/** prom-client's default process_* and nodejs_* metrics, which differ by platform and are grouped in one row. */
function defaultMetricNames(): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

/** Zephyr's own metrics as registered by createMetrics, in registration order. */
export function zephyrMetrics(): RegisteredMetric[] {
  const defaults = defaultMetricNames();
  const { registry } = createMetrics({
    version: "docs",
    poolStats: () => ({ total: 0, idle: 0, waiting: 0, max: 0 }),
  });
  return (registry.getMetricsAsArray() as unknown as RegisteredMetric[]).filter((m) => !defaults.has(m.name));
}

export function metricCatalogue(): string {
  const rows = zephyrMetrics().map((m) => {
    const type = m.upperBounds ? `${m.type}; buckets ${m.upperBounds.join(", ")}` : m.type;
    const labels = m.labelNames?.length ? m.labelNames.map((l) => `\`${l}\``).join(", ") : "—";
    return `| \`${m.name}\` | ${type} | ${labels} | ${m.help} | ${METRIC_NOTES[m.name] ?? ""} |`;
  });
  const prefixes = [...new Set([...defaultMetricNames()].map((n) => `\`${n.split("_")[0]}_*\``))].sort();
  rows.push(
    `| ${prefixes.join(", ")} | | | prom-client's default metrics (\`collectDefaultMetrics\`): CPU, memory, file descriptors, heap, GC, event-loop lag, Node.js version | Runtime panels and alerts; see below. |`,
  );
  return [
    "| Metric | Type | Labels | Help | What it is for |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

interface AlertRule {
  alert?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const RUNBOOK_BASE = /^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/main\//;

/** Prometheus templates in a summary, shown as code so `{{ $labels.x }}` reads as a placeholder. */
function summaryCell(summary: string): string {
  return summary.replace(/\{\{.*?\}\}/g, (t) => `\`${t}\``).replace(/\|/g, "\\|");
}

/** The alerts of alerts/*.rules.yml; runbook links made relative to `docFile` so they work on any branch. */
export function alertTable(docFile: string): string {
  const groups = (
    parse(readFileSync(repoPath("alerts/zephyr.rules.yml"), "utf8")) as { groups: { rules: AlertRule[] }[] }
  ).groups;
  const rows = groups.flatMap((g) =>
    g.rules
      .filter((r) => r.alert)
      .map((r) => {
        const url = r.annotations?.runbook_url ?? "";
        const link = RUNBOOK_BASE.test(url)
          ? posix.relative(posix.dirname(docFile), url.replace(RUNBOOK_BASE, ""))
          : url;
        const runbook = link ? `[runbook](${link})` : "—";
        return `| \`${r.alert}\` | ${r.labels?.severity ?? "—"} | ${r.for ?? "0s"} | ${summaryCell(r.annotations?.summary ?? "")} | ${runbook} |`;
      }),
  );
  return ["| Alert | Severity | For | Summary | Runbook |", "| --- | --- | --- | --- | --- |", ...rows].join(
    "\n",
  );
}

/** The capacity model's tables, from the committed full benchmark report (loadtest/bench/report.json). */
function capacityBlock(render: (costs: NonNullable<ReturnType<typeof unitCosts>>) => string): () => string {
  return () => {
    const report = JSON.parse(readFileSync(repoPath("loadtest/bench/report.json"), "utf8"));
    const costs = unitCosts(report);
    if (!costs)
      return "_The committed benchmark report lacks a section the model needs: run `npm run bench`._";
    return render(costs);
  };
}

export interface Block {
  /** Repository-relative path of the Markdown file holding the block. */
  file: string;
  name: string;
  render: () => string;
}

export const BLOCKS: readonly Block[] = [
  { file: "docs/configuration.md", name: "config-table", render: configMarkdownTable },
  { file: "docs/http-api.md", name: "error-codes", render: errorCodeTable },
  { file: "docs/monitoring.md", name: "metric-catalogue", render: metricCatalogue },
  { file: "alerts/README.md", name: "alert-table", render: () => alertTable("alerts/README.md") },
  { file: "docs/capacity.md", name: "capacity-inputs", render: capacityBlock(unitCostTable) },
  { file: "docs/capacity.md", name: "capacity-sizing", render: capacityBlock((u) => sizingTable(u)) },
  {
    file: "docs/autoscaling.md",
    name: "autoscaling-timeline",
    render: () => timelineMarkdown(parseRun(readFileSync(repoPath("docs/autoscaling-run.json"), "utf8"))),
  },
];

const startMarker = (name: string) =>
  `<!-- ${name}:start (generated by npm run docs; edit docs/generate.ts) -->`;
const endMarker = (name: string) => `<!-- ${name}:end -->`;

function blockPattern(name: string): RegExp {
  return new RegExp(`<!-- ${name}:start[^>]*-->\\n([\\s\\S]*?)\\n?<!-- ${name}:end -->`, "g");
}

/** The block's current content, or undefined when its markers are missing. */
export function extractBlock(text: string, name: string): string | undefined {
  const matches = [...text.matchAll(blockPattern(name))];
  if (matches.length > 1) throw new Error(`${name}: markers appear ${matches.length} times`);
  return matches[0]?.[1];
}

export function replaceBlock(text: string, name: string, content: string): string {
  if (extractBlock(text, name) === undefined) {
    throw new Error(`${name}: add the markers first:\n${startMarker(name)}\n${endMarker(name)}`);
  }
  return text.replace(blockPattern(name), () => `${startMarker(name)}\n${content}\n${endMarker(name)}`);
}

/** Every file with its blocks regenerated; `changed` when that differs from what is committed. */
export function regenerate(): { file: string; text: string; changed: boolean }[] {
  const files = [...new Set(BLOCKS.map((b) => b.file))];
  return files.map((file) => {
    const before = readFileSync(repoPath(file), "utf8");
    const after = BLOCKS.filter((b) => b.file === file).reduce(
      (text, b) => replaceBlock(text, b.name, b.render()),
      before,
    );
    return { file, text: after, changed: after !== before };
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const { file, text, changed } of regenerate()) {
    if (changed) writeFileSync(repoPath(file), text);
    console.log(
      `${changed ? "updated" : "up to date"}  ${relative(process.cwd(), resolve(REPO_ROOT, file))}`,
    );
  }
}
