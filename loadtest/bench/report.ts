/** Renders the benchmark JSON as REPORT.md: every figure, its baseline, and each target met or missed. */
import { renderCapacity } from "./report-capacity.js";

// biome-ignore lint/suspicious/noExplicitAny: renders report.json, whose shape bench.ts defines and bench.test.ts checks.
type Any = any;
interface Target {
  section: string;
  what: string;
  target: string;
  measured: string;
  met: boolean | null;
  explain?: string;
}

const n = (v: unknown, unit = "") => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${v}${unit}`);
// The histogram stops at 10 s; a percentile there means "10 s or more", not 10.0001 s.
const ms = (v: unknown) => (typeof v === "number" && v >= 10_000 ? "≥10000" : n(v));
const lat = (s: Any) =>
  s ? `p50 ${ms(s.p50)} / p95 ${ms(s.p95)} / p99 ${ms(s.p99)} ms (n=${n(s.count)})` : "–";
const cpuText = (c: Any) =>
  c
    ? Object.entries(c)
        .map(([k, v]) => `${k.replace(/CorePct$/, "")} ${v}%`)
        .join(", ")
    : "";
const profText = (p: Any) =>
  Array.isArray(p) && p.length ? p.map((f: Any) => `${f.selfPct}% ${f.fn}`).join("; ") : "no profile";
export const PROFILE_NOTE =
  "Profiles are V8 CPU profiles of the whole server process (start-up included, one sample per 10 ms so the profiler costs little), top functions by self time as a share of non-idle samples. The HTTP figure comes from an unprofiled instance and its profile from a second, shorter run.";

export function renderReport(r: Any): string {
  const m = r.meta;
  const t: Target[] = [];
  const out: string[] = [];
  out.push("# Zephyr benchmark report", "");
  if (m.mode !== "full") out.push(`> **${m.mode}**`, "");
  out.push(
    `- Date: ${m.date} (took ${n(m.durationSeconds)} s)`,
    `- Machine: ${m.machine.nproc} CPUs (${m.machine.cpuModel}), ${m.machine.memoryGB} GB RAM, kernel ${m.machine.kernel}, open-file limit ${m.machine.openFileLimit}`,
    `- Load average at start / end: ${m.machine.loadAverageAtStart} / ${m.loadAverageAtEnd ?? "?"}`,
    ...(m.rerun ?? []).map(
      (x: Any) =>
        `- Section \`${x.section}\` re-measured alone on ${x.date} (load average at its start ${x.loadAverageAtStart}), in this run's report.`,
    ),
    `- Versions: ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    "- Everything on one machine over loopback: servers, PostgreSQL, Redis and the load generators share the same cores, so every figure is a lower bound of what a dedicated instance does; the `cpu` lines show who used the cores (% of one core; machineBusyPct is the whole machine). PostgreSQL runs with `fsync=on` (its default), so an acknowledged vote is on disk.",
    `- ${PROFILE_NOTE}`,
  );
  const load = Number(String(m.machine.loadAverageAtStart).split(" ")[0]);
  if (load > m.machine.nproc)
    out.push(
      `- **The machine was shared with other workloads during this run** (1-minute load average ${load} on ${m.machine.nproc} CPUs at the start: other engineers' builds and test suites). Every figure below is depressed by that contention; the baselines ran under the same conditions.`,
    );
  out.push("");

  const h = r.http;
  out.push("## HTTP: `GET /api/polls/:code/results`", "");
  if (h?.error) out.push("```", h.error, "```", "");
  else if (h) {
    out.push(
      `autocannon, ${h.connections} connections, ${h.seconds} s after a 1 s warm-up; same JSON body from both (${h.sameJson ? "verified" : "NOT identical"}).`,
      "",
      "| Server | req/s | p50 ms | p99 ms | non-2xx | errors | cpu |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      `| Zephyr (PostgreSQL-backed) | ${h.zephyr.reqPerSec} | ${h.zephyr.p50Ms} | ${h.zephyr.p99Ms} | ${h.zephyr.non2xx} | ${h.zephyr.errors} | ${cpuText(h.zephyr.cpu)} |`,
      `| bare Hono route, same JSON | ${h.bareHono.reqPerSec} | ${h.bareHono.p50Ms} | ${h.bareHono.p99Ms} | ${h.bareHono.non2xx} | ${h.bareHono.errors} | ${cpuText(h.bareHono.cpu)} |`,
      "",
      `Ratio Zephyr / bare: **${h.ratio}**. Zephyr CPU profile (self time): ${profText(h.profile)}`,
      "",
    );
    t.push({
      section: "HTTP",
      what: "results req/s per instance",
      target: "≥ 10,000",
      measured: String(h.zephyr.reqPerSec),
      met: h.zephyr.reqPerSec >= 10_000,
      explain: `the bare Hono route reached ${h.bareHono.reqPerSec} req/s on this machine with autocannon sharing its 2 cores, so 10,000 would need a ratio of ${Math.round((100 * 10_000) / Math.max(1, h.bareHono.reqPerSec)) / 100} here; what Zephyr adds per request is the request id and security headers, metrics and the middleware chain. cpu ${cpuText(h.zephyr.cpu)}; profile ${profText(h.profile)}`,
    });
    t.push({
      section: "HTTP",
      what: "ratio to bare Hono",
      target: "≥ 0.6",
      measured: String(h.ratio),
      met: h.ratio >= 0.6,
      explain: `profile ${profText(h.profile)}`,
    });
  }

  const v = r.votes;
  out.push("## Votes: durable votes/s on one instance", "");
  if (v?.error) out.push("```", v.error, "```", "");
  else if (v) {
    out.push(
      `${v.group.clients} WebSocket participants in ${v.group.polls} polls (allowVoteChange), closed loop: each votes again (alternating option, a real write) as soon as the previous vote is acknowledged, which is only after its transaction committed.`,
      "",
      "| Mode | votes/s | ack latency | errors | stored votes = participants | cpu |",
      "| --- | --- | --- | --- | --- | --- |",
      ...[v.group, v.naive].map(
        (x: Any) =>
          `| ${x.mode} | ${x.votesPerSec} | ${lat(x.ack)} | ${x.errors} | ${x.storedMatchesParticipants ? "yes" : `NO (${x.storedVotes})`} | ${cpuText(x.cpu)} |`,
      ),
      "",
      `Group commit / naive: **${v.speedup}×**.`,
      "",
      ...(v.group.paced
        ? [
            `Open loop, group commit: the same participants offered ${v.group.paced.offeredPerSec} votes/s for the same time (round-robin, latency from each vote's scheduled send time): ${v.group.paced.achievedPerSec} votes/s acknowledged, ack ${lat(v.group.paced.ack)}, ${v.group.paced.errors} errors; cpu ${cpuText(v.group.paced.cpu)}. The closed loop above keeps ${v.group.clients} votes outstanding, so its latency is the queue that makes (Little's law: ${v.group.clients} / votes/s), not what a voter at a given load sees.`,
            "",
          ]
        : []),
      `Profiles (self time): group commit: ${profText(v.group.profile)}. Naive: ${profText(v.naive.profile)}.`,
      "",
    );
    t.push({
      section: "Votes",
      what: "durable votes/s per instance",
      target: "≥ 5,000",
      measured: String(v.group.votesPerSec),
      met: v.group.votesPerSec >= 5000,
      explain: `cpu ${cpuText(v.group.cpu)}; profile ${profText(v.group.profile)}`,
    });
    const paced = v.group.paced;
    t.push({
      section: "Votes",
      what: paced ? `ack p95 at ${paced.offeredPerSec} votes/s offered` : "ack p95",
      target: "≤ 50 ms",
      measured: `${n((paced ?? v.group).ack.p95)} ms`,
      met: (paced ?? v.group).ack.p95 !== null && (paced ?? v.group).ack.p95 <= 50,
      explain: `${paced ? `acknowledged ${paced.achievedPerSec}/s; cpu ${cpuText(paced.cpu)}` : `closed loop with ${v.group.clients} outstanding votes; cpu ${cpuText(v.group.cpu)}`}; at saturation (closed loop) p95 was ${n(v.group.ack.p95)} ms. A vote crosses four processes (client, Zephyr, PostgreSQL with an fsync, Zephyr, client) on 2 cores that are this busy, so each hop waits for a core; the database call itself takes 2-5 ms per batch (measured alone)`,
    });
    t.push({
      section: "Votes",
      what: "group commit vs naive",
      target: "≥ 5×",
      measured: `${v.speedup}×`,
      met: v.speedup >= 5,
      explain: `naive profile ${profText(v.naive.profile)}`,
    });
  }

  const a = r.answers;
  out.push("## Answers: word-cloud entries/s against single-choice votes/s", "");
  if (a?.error) out.push("```", a.error, "```", "");
  else if (a) {
    const row = (name: string, x: Any) =>
      `| ${name} | ${x.answers} | ${x.errors} | ${x.seconds} | ${x.answersPerSec} | ${x.entriesPerSec} | ${lat(x.ack)} | ${x.storedMatchesAcks ? "yes" : `NO (${x.stored})`} | ${cpuText(x.cpu)} |`;
    out.push(
      `${a.clients} WebSocket participants join one poll on one instance (default batching, as in the votes section), then all answer at once: a single choice, or a word cloud with ${a.entriesPerAnswer} different words each from a 300-word vocabulary. A word cloud is answered once per participant, so there is no closed loop of changed answers to run; rounds alternate the two types on fresh polls. Rates run from the first answer sent to the last acknowledged; every acknowledged answer is committed.`,
      "",
      "| Question | answers | errors | seconds | answers/s | entries/s | ack latency | stored = acknowledged | cpu |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      row("single choice", a.single),
      row("word cloud", a.wordcloud),
      "",
      `Word-cloud entries/s ÷ single-choice votes/s: **${a.ratio}×**, the median of ${(a.rounds ?? []).length || 1} alternating rounds (${(a.rounds ?? []).map((x: Any) => `${x.ratio}× = ${x.wordcloudEntriesPerSec}/${x.singleVotesPerSec}`).join(", ")}); the table is that round.`,
      "",
      `Profile (self time, whole section): ${profText(a.profile)}`,
      "",
    );
    t.push({
      section: "Answers",
      what: `word-cloud entries/s ÷ single-choice votes/s, ${a.clients} participants`,
      target: "≥ 0.5×",
      measured: `${a.ratio}× (${a.wordcloud.entriesPerSec} vs ${a.single.answersPerSec}/s)`,
      met:
        a.ratio >= 0.5 &&
        a.wordcloud.storedMatchesAcks &&
        a.single.storedMatchesAcks &&
        a.wordcloud.errors === 0,
      explain: `word-cloud answers/s ${a.wordcloud.answersPerSec}, ack ${lat(a.wordcloud.ack)} (single ${lat(a.single.ack)}); profile ${profText(a.profile)}`,
    });
  }

  const f = r.fanout;
  out.push("## Fan-out: one room over three instances", "");
  if (f?.error) out.push("```", f.error, "```", "");
  else if (f) {
    const x = f.fanout;
    out.push(
      `${x.participants} participants (WebSocket, spread over ${x.instances} instances), ${x.votesSent} votes sent over HTTP at ${x.targetRate}/s (achieved ${x.achievedRate}/s over ${x.votingSeconds} s, ${x.votesAcked} acknowledged, stored total ${x.storedTotal}), round-robin over the instances.`,
      "",
      "Vote→update latency is measured per vote and per participant: an update with total T is taken to carry the first T acknowledged votes (commit order ≈ ack order), from the vote's send time to the update's arrival. Same-instance = the participant is on the instance that took the vote.",
      "",
      "| | latency |",
      "| --- | --- |",
      `| same instance | ${lat(x.sameInstance)} |`,
      `| cross instance | ${lat(x.crossInstance)} |`,
      `| HTTP vote ack | ${lat(x.httpVoteAck)} |`,
      "",
      `Messages: ${x.messages} vote-updates in total, **${x.msgsPerParticipantPerSec} per participant per second** (at most ${x.maxMsgsOneParticipant} to one participant). cpu: ${cpuText(x.cpu)}. Rank-order anomalies: ${x.rankOrderAnomalies}.`,
      "",
    );
    const c = f.comparison;
    out.push(
      `### Coalesced vs naive (reduced scale: ${c.coalesced.participants} participants, ${c.coalesced.votesSent} votes at ${c.coalesced.targetRate}/s, same run)`,
      "",
      "| Mode | messages | per participant per s | per vote per participant | cross-instance latency | cpu |",
      "| --- | --- | --- | --- | --- | --- |",
      ...[
        ["coalesced (BROADCAST_INTERVAL_MS=100)", c.coalesced],
        ["naive (VOTE_BATCH_MAX=1, BROADCAST_INTERVAL_MS=0)", c.naive],
      ].map(
        ([name, y]: Any) =>
          `| ${name} | ${y.messages} | ${y.msgsPerParticipantPerSec} | ${y.msgsPerVotePerParticipant} | ${lat(y.crossInstance)} | ${cpuText(y.cpu)} |`,
      ),
      "",
      `Naive sends **${c.messageRatio}×** the messages at this scale. Naive sends one message per vote per participant by design (measured ${c.naive.msgsPerVotePerParticipant}), so at the full fan-out scale above it would send ≈ ${c.naiveMessagesAtFullScaleEstimate} messages, **≈ ${c.fullScaleRatioEstimate}×** the coalesced ${x.messages} (an estimate: naive at that scale would not finish on this machine).`,
      "",
    );
    const s = f.singleVote;
    out.push(
      "### Single vote, cross-instance",
      "",
      `One voter on instance 1, ${s.zephyr.observers} observers on instances 2 and 3, ${s.zephyr.votes} votes 300 ms apart (each on the throttle's leading edge), each acknowledged durable. Baseline: two bare socket.io servers with the redis adapter on the same Redis relaying one event from a client on A to the same number of observers on B.`,
      "",
      "| | latency | missing |",
      "| --- | --- | --- |",
      `| Zephyr vote → vote-update on other instances | ${lat(s.zephyr.latency)} | ${s.zephyr.missing} |`,
      `| Zephyr vote ack (durable) | ${lat(s.zephyr.voteAck)} | |`,
      `| bare socket.io + redis-adapter relay | ${lat(s.bareSocketIoRedis.latency)} | ${s.bareSocketIoRedis.missing} |`,
      "",
      `Profiles (self time) of the three coalescing instances: ${(f.profile ?? []).map(profText).join(" | ")}`,
      "",
    );
    t.push({
      section: "Fan-out",
      what: "vote→update p95, same instance",
      target: "≤ 150 ms",
      measured: `${ms(x.sameInstance.p95)} ms`,
      met: x.sameInstance.p95 !== null && x.sameInstance.p95 <= 150,
      explain: `offered ${x.targetRate} votes/s, the system acknowledged ${x.achievedRate}/s over ${x.votingSeconds} s (HTTP vote ack ${lat(x.httpVoteAck)}), so votes queued and the latency is mostly queueing. The machine was the limit: it delivered ${Math.round(x.messages / Math.max(1, x.votingSeconds))} vote-update messages/s (one write per participant socket, and over loopback each write also runs the receiver's TCP processing), with the 5,000 receiving clients, PostgreSQL and Redis on the same 2 cores (cpu ${cpuText(x.cpu)}); the target rate needs ${x.participants * 10} messages/s at the 10-per-second cap. The reduced-scale run below, which the machine sustains, shows the latency the design gives. Server profiles ${(f.profile ?? []).map(profText).join(" | ")}`,
    });
    t.push({
      section: "Fan-out",
      what: "vote→update p95, cross instance",
      target: "≤ 150 ms",
      measured: `${ms(x.crossInstance.p95)} ms`,
      met: x.crossInstance.p95 !== null && x.crossInstance.p95 <= 150,
      explain: "same saturation as the same-instance figure",
    });
    t.push({
      section: "Fan-out",
      what: "messages per participant per second",
      target: "≤ 10",
      measured: String(x.msgsPerParticipantPerSec),
      met: x.msgsPerParticipantPerSec <= 10,
    });
    t.push({
      section: "Fan-out",
      what: "naive messages / coalesced (measured, reduced scale)",
      target: "≥ 100×",
      measured: `${c.messageRatio}×`,
      met: c.messageRatio >= 100,
      explain: `at reduced scale only ${c.coalesced.votesSent} votes over ${c.coalesced.votingSeconds} s: the ratio is bounded by votes per broadcast interval; full-scale estimate ${c.fullScaleRatioEstimate}×`,
    });
    t.push({
      section: "Fan-out",
      what: "naive messages / coalesced (full-scale estimate)",
      target: "≥ 100×",
      measured: `${c.fullScaleRatioEstimate}×`,
      met: c.fullScaleRatioEstimate >= 100,
      explain: `coalesced messages grow with the run's duration (at most 10 per participant per second) while naive ones grow with the vote count; the fan-out run stretched to ${x.votingSeconds} s instead of ${Math.round(x.votesSent / x.targetRate)} s, which inflates the coalesced count and shrinks this ratio`,
    });
    t.push({
      section: "Single vote",
      what: "cross-instance p95 (100 observers)",
      target: "≤ 20 ms",
      measured: `${n(s.zephyr.latency.p95)} ms (bare ${n(s.bareSocketIoRedis.latency.p95)} ms)`,
      met: s.zephyr.latency.p95 !== null && s.zephyr.latency.p95 <= 20,
      explain: `profiles ${(f.profile ?? []).map(profText).join(" | ")}`,
    });
  }

  const k = r.connections;
  const rm = r.rooms;
  out.push("## Rooms: Redis messages per instance, per-room fan-out against broadcast-to-all", "");
  if (rm?.error) out.push("```", rm.error, "```", "");
  else if (rm) {
    out.push(
      `${rm.rooms} rooms over 3 instances (one Redis), each room's ${rm.membersPerRoom} members connected to one instance; ${rm.votesSent} votes over HTTP at ${rm.targetRate}/s from ${rm.votersPerRoom} voters per room, sent round robin to the three instances (so two thirds of each room's commits are made where it has no members), ${rm.votesAcked} acknowledged in ${rm.seconds} s. Received is what each instance's relay subscriptions delivered (\`zephyr_relay_messages_received_total\`). The broadcast-to-all baseline is a Redis subscriber to every room channel in the same run: what every instance received when each snapshot went to every instance.`,
      "",
      "| | Redis messages received per instance per second |",
      "| --- | --- |",
      `| per-room fan-out | ${rm.receivedPerInstancePerSec.join(", ")} |`,
      `| broadcast to all (same run) | ${rm.broadcastToAllPerInstancePerSec} on each |`,
      "",
      `Published: ${rm.publishedPerSec}/s over the fleet. Broadcast-to-all ÷ per-room fan-out: **${rm.ratio}×** per instance.`,
      "",
    );
    t.push({
      section: "Rooms",
      what: `Redis messages received per instance, ${rm.rooms} busy rooms over 3 instances`,
      target: "below the broadcast-to-all design",
      measured: `${rm.receivedPerInstancePerSec.join(", ")}/s vs ${rm.broadcastToAllPerInstancePerSec}/s (${rm.ratio}× fewer)`,
      met: rm.ratio > 1 && rm.votesAcked === rm.votesSent,
      explain: `${rm.votesAcked}/${rm.votesSent} votes acknowledged`,
    });
  }

  out.push("## Connections held by one instance", "");
  if (k?.error) out.push("```", k.error, "```", "");
  else if (k) {
    const row = (name: string, y: Any) =>
      `| ${name} | ${y.opened}/${y.requested} | ${y.heldThroughout} for ${y.holdSeconds} s | ${y.joinsPerSec} | ${y.rssBeforeMB} → ${y.rssAfterMB} (peak ${y.peakRssMB}) | ${y.heapBeforeMB} → ${y.heapAfterMB} | ${y.rssPerConnKB} | ${y.heapPerConnKB} |`;
    out.push(
      `Each participant connects (raw WebSocket, ${k.zephyr.clientWorkers} client processes with 4 source addresses each) and joins one room; RSS/heap are read before connecting and 2 s after the last join.`,
      "",
      "| Server | opened | held | joins/s | RSS MB | heap MB | RSS KB/conn | heap KB/conn |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      row("Zephyr", k.zephyr),
      row("bare socket.io", k.bareSocketIo),
      "",
      `Zephyr profile (self time, whole run incl. joins): ${profText(k.profile)}`,
      "",
    );
    t.push({
      section: "Connections",
      what: "participants held 60 s",
      target: "≥ 15,000",
      measured: `${k.zephyr.heldThroughout} for ${k.zephyr.holdSeconds} s`,
      met: k.zephyr.heldThroughout >= 15_000 && k.zephyr.holdSeconds >= 60,
    });
    t.push({
      section: "Connections",
      what: "RSS per connection",
      target: "≤ 20 KB",
      measured: `${k.zephyr.rssPerConnKB} KB (bare ${k.bareSocketIo.rssPerConnKB} KB)`,
      met: k.zephyr.rssPerConnKB <= 20,
      explain: `heap ${k.zephyr.heapPerConnKB} KB/conn vs bare ${k.bareSocketIo.heapPerConnKB}`,
    });
  }

  const j = r.joinStorm;
  out.push("## Join storm: a crowd joins one poll", "");
  if (j?.error) out.push("```", j.error, "```", "");
  else if (j) {
    const row = (name: string, y: Any) =>
      `| ${name} | ${y.joined}/${y.requested} | ${y.failed}${y.firstError ? ` (${y.firstError})` : ""} | ${y.seconds} | ${y.joinsPerSec} | ${lat(y.connect)} | ${lat(y.joinAck)} | ${y.serverCpuMsPerJoin} | ${cpuText(y.cpu)} |`;
    const perJoin = (o: Any) =>
      Object.entries(o ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") || "–";
    out.push(
      `${j.clients} participants (raw WebSocket transport, ${j.clientWorkers} client processes with 4 source addresses each, ${j.concurrency} connecting at a time) connect and join one poll on one instance (with Redis, as deployed) as fast as it takes them. The baseline is bare socket.io taking the same clients from the same workers (its join-poll joins a room and acknowledges a join-sized payload, no database). Joins/s run from the first connect to the last join acknowledgement; connect is until the socket.io handshake completed, join ack from each join-poll emit to its acknowledgement.`,
      "",
      "| Server | joined | failed | seconds | joins/s | connect | join ack | server CPU ms/join | cpu |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      row("Zephyr", j.zephyr),
      row("bare socket.io", j.bareSocketIo),
      "",
      `Zephyr joins/s ÷ bare connects/s: **${j.ratio}×**, the median of ${(j.rounds ?? []).length || 1} alternating rounds (${roundsText(j.rounds)}); the table is that round.`,
      "",
      `Per join: PostgreSQL ${perJoin(j.perJoin?.database)} (pg_stat_database: transactions, rows and index entries read, rows inserted, blocks) and ${j.perJoin?.postgresCpuMs} ms CPU in its backends; Redis commands ${perJoin(j.perJoin?.redisCommands)} and ${j.perJoin?.redisCpuMs} ms CPU.`,
      "",
      `Zephyr profile (self time, whole run incl. start-up): ${profText(j.profile)}`,
      "",
    );
    t.push({
      section: "Join storm",
      what: `joins/s ÷ bare socket.io connects/s, ${j.clients} clients`,
      target: "≥ 0.5× bare connects/s",
      measured: `${j.ratio}× (${j.zephyr.joinsPerSec} vs ${j.bareSocketIo.joinsPerSec}/s; median of ${(j.rounds ?? []).length || 1} rounds)`,
      met: j.ratio >= 0.5 && j.zephyr.joined === j.clients,
      explain: `join ack ${lat(j.zephyr.joinAck)} (bare ${lat(j.bareSocketIo.joinAck)}); server CPU per join ${j.zephyr.serverCpuMsPerJoin} ms (bare ${j.bareSocketIo.serverCpuMsPerJoin} ms), cpu ${cpuText(j.zephyr.cpu)} (bare ${cpuText(j.bareSocketIo.cpu)}); per join PostgreSQL ${perJoin(j.perJoin?.database)}, Redis ${perJoin(j.perJoin?.redisCommands)}; profile ${profText(j.profile)}`,
    });
  }

  const pg = r.pages;
  out.push("## Pages: Lighthouse performance, mobile", "");
  if (pg?.error) out.push("```", pg.error, "```", "");
  else if (pg) {
    const row = (name: string, x: Any) =>
      `| ${name} | ${x.performance} | ${x.scores.join(", ")} | ${x.metrics.fcpMs} | ${x.metrics.lcpMs} | ${x.metrics.tbtMs} | ${x.metrics.cls} | ${x.metrics.speedIndexMs} |`;
    out.push(
      `Lighthouse (npm) on Debian's Chromium in its default mobile emulation (simulated slow 4G, 4× CPU slowdown), a fresh browser per run, ${pg.runs} run(s) per page against one compiled instance (${pg.date ?? m.date}); the table shows the median run. The baseline is /join, the smallest page (shell and entry chunk, no socket).`,
      "",
      "| Page | score | runs | FCP ms | LCP ms | TBT ms | CLS | Speed Index ms |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      row("audience /j/:roomCode", pg.audience),
      row("baseline /join", pg.join),
      "",
    );
    t.push({
      section: "Pages",
      what: "Lighthouse performance, audience page, mobile",
      target: "≥ 90",
      measured: `${pg.audience.performance} (baseline /join ${pg.join.performance})`,
      met: pg.audience.performance >= 90,
      explain: `LCP ${pg.audience.metrics.lcpMs} ms, TBT ${pg.audience.metrics.tbtMs} ms (baseline LCP ${pg.join.metrics.lcpMs} ms)`,
    });
  }

  const capacity = renderCapacity(r.capacity, lat);
  out.push(...capacity.lines);
  if (capacity.target) t.push(capacity.target);

  out.push("## Targets", "", "| Section | Figure | Target | Measured | |", "| --- | --- | --- | --- | --- |");
  for (const x of t)
    out.push(`| ${x.section} | ${x.what} | ${x.target} | ${x.measured} | ${x.met ? "met" : "**MISSED**"} |`);
  const missed = t.filter((x) => !x.met);
  if (missed.length) {
    out.push("", "### Why the missed targets were missed", "");
    for (const x of missed)
      out.push(
        `- **${x.section}: ${x.what}** (${x.measured}, target ${x.target}): ${x.explain ?? "see the section above"}.`,
      );
  }
  out.push("");
  return out.join("\n");
}

const roundsText = (rounds: Any[] | undefined) =>
  (rounds ?? []).map((r) => `${r.ratio}× = ${r.zephyrJoinsPerSec}/${r.bareJoinsPerSec}`).join(", ") ||
  "one round";

export function targetsOf(report: Any): string[] {
  return renderReport(report)
    .split("\n")
    .filter((l) => /\| (met|\*\*MISSED\*\*) \|$/.test(l));
}
