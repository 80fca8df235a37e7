/**
 * The capacity model behind docs/capacity.md: per-unit costs measured by the benchmark's single-purpose
 * sections (report.json) turned into instances, Redis shards and PostgreSQL cores for a crowd. The same
 * functions predict the benchmark's capacity anchor run, whose measurement the report sets beside the
 * prediction, so the model is checked by every full benchmark; docs/generate.ts renders the sizing table from
 * the committed report.json, and docs.test.ts fails when the page drifts from it.
 */

/** What one unit of work costs, each read from one section of a benchmark report. */
export interface UnitCosts {
  /** RSS of an idle instance, and per held connection (section "connections"). */
  rssBaseMB: number;
  rssPerConnKB: number;
  /** Instance CPU per held connection per second while nothing happens: heartbeats, timers (section "connections"). */
  idleCpuMsPerConnSecond: number;
  /** Instance CPU per durable vote, its acknowledgement included (section "votes", group commit). */
  cpuMsPerVote: number;
  /** Instance CPU per vote-update written to a participant's socket (section "fanout", full-scale run). */
  cpuMsPerMessage: number;
  /** Group commits per second one busy instance makes (section "votes"): how often it publishes a room. */
  flushesPerSecond: number;
  /**
   * PostgreSQL backend CPU per transaction of one vote (section "votes", naive mode: one vote per commit), which
   * bounds a group commit of a few votes from above; and per join (section "joinStorm").
   */
  pgCpuMsPerCommit: number;
  pgCpuMsPerJoin: number;
  /** Instance CPU per join (section "joinStorm"). */
  cpuMsPerJoin: number;
  /** Redis CPU per pub/sub message delivered to a subscriber (section "rooms"). */
  redisCpuMsPerDelivery: number;
}

/** The crowd and how it behaves at its busiest moment. */
export interface Workload {
  participants: number;
  roomSize: number;
  /** Everyone in every room answers within this many seconds of the question opening (the peak). */
  answerWindowS: number;
  /** Everyone joins within this many seconds (the join wave before the event). */
  joinWindowS: number;
}

/** What the chart's defaults and the service's settings give each pod. */
export interface Fleet {
  /** The HPA's websocket_connections target per pod. */
  connectionsPerPod: number;
  /** CPU one pod may use at the peak: one Node.js event loop, with headroom. */
  peakCoresPerPod: number;
  /** BROADCAST_INTERVAL_MS: one vote-update per participant per interval at most. */
  broadcastIntervalMs: number;
  /** A Redis primary is one thread; keep it below this share of a core. */
  redisCoresPerShard: number;
  /** The chart's memory limit per pod. */
  memoryLimitMB: number;
}

export const CHART_FLEET: Fleet = {
  connectionsPerPod: 5000,
  peakCoresPerPod: 0.8,
  broadcastIntervalMs: 100,
  redisCoresPerShard: 0.5,
  memoryLimitMB: 512,
};

export interface Plan {
  rooms: number;
  votesPerSecond: number;
  /** Vote-updates written to participants per second, over the fleet. */
  messagesPerSecond: number;
  pods: number;
  /**
   * Which limit set the pod count: connections per pod, or CPU at the peak spent mostly on writing updates or
   * mostly on relayed snapshots; "does not fit" when only pods of fewer than MIN_PARTICIPANTS_PER_POD would do.
   */
  podsBoundBy: "connections" | "cpu: updates" | "cpu: relay" | "does not fit";
  perPod: {
    connections: number;
    votesPerSecond: number;
    messagesPerSecond: number;
    relayInPerSecond: number;
    peakCores: number;
    rssMB: number;
  };
  /** Instances that hold members of one room, on average (members land where the load balancer puts them). */
  podsPerRoom: number;
  redis: { deliveriesPerSecond: number; cores: number; shards: number };
  postgres: { peakCores: number; joinWaveCores: number; commitsPerSecond: number };
  joinWave: { joinsPerSecond: number; zephyrCores: number };
  /** The resource that runs out first as the crowd grows. */
  saturatesFirst: string;
}

/** Expected number of pods holding at least one of `size` members placed independently over `pods`. */
/** Below this many participants per pod, adding pods is no longer a plan. */
export const MIN_PARTICIPANTS_PER_POD = 100;

export const podsHolding = (pods: number, size: number) => pods * (1 - (1 - 1 / pods) ** size);

/** Per pod at the peak for a given pod count; exported so the anchor run is predicted with its own count. */
export function perPodAt(w: Workload, u: UnitCosts, f: Fleet, pods: number) {
  const rooms = w.participants / w.roomSize;
  const roomVotesPerSecond = w.roomSize / w.answerWindowS;
  // Coalescing: an update goes out at once for a vote after a quiet interval, and the votes that follow within
  // the interval share the next one: with votes arriving at random at rate λ, about λ / (1 + λT) updates per
  // second (T = the broadcast interval), never more than 1/T.
  const interval = f.broadcastIntervalMs / 1000;
  const updatesPerParticipant = Math.min(
    1 / interval,
    roomVotesPerSecond / (1 + roomVotesPerSecond * interval),
  );
  const holders = podsHolding(pods, w.roomSize);
  // Each committed batch that holds a room's votes publishes its snapshot once: no more often than votes
  // arrive, and no more often than the holders' group commits run.
  const publishesPerRoom = Math.min(roomVotesPerSecond, holders * u.flushesPerSecond);
  // A pod hears every publish of each room it holds except its own.
  const relayIn = (rooms * holders * publishesPerRoom * (1 - 1 / Math.max(1, holders))) / pods;
  const connections = w.participants / pods;
  const votes = w.participants / w.answerWindowS / pods;
  // Group commit batches only what arrives while the previous commit is under way: a pod below its flush rate
  // commits every vote on its own.
  const commitsPerSecond = Math.min(votes, u.flushesPerSecond) * pods;
  const messages = connections * updatesPerParticipant;
  // A relayed snapshot costs about what one delivered update costs (parse, compare seq, queue): an
  // assumption, checked by the anchor run's total.
  const peakCores =
    (connections * u.idleCpuMsPerConnSecond +
      votes * u.cpuMsPerVote +
      (messages + relayIn) * u.cpuMsPerMessage) /
    1000;
  return {
    rooms,
    holders,
    publishesPerRoom,
    commitsPerSecond,
    perPod: {
      connections,
      votesPerSecond: votes,
      messagesPerSecond: messages,
      relayInPerSecond: relayIn,
      peakCores,
      rssMB: u.rssBaseMB + (connections * u.rssPerConnKB) / 1024,
    },
  };
}

export function plan(w: Workload, u: UnitCosts, f: Fleet = CHART_FLEET): Plan {
  const byConnections = Math.max(1, Math.ceil(w.participants / f.connectionsPerPod));
  // More pods spread each room over more of them, which adds relay traffic: iterate to the fixed point.
  let pods = byConnections;
  for (let i = 0; i < 60; i++) {
    const need = Math.ceil((pods * perPodAt(w, u, f, pods).perPod.peakCores) / f.peakCoresPerPod);
    if (need <= pods) break;
    pods = need;
  }
  const at = perPodAt(w, u, f, pods);
  const fits =
    at.perPod.peakCores <= f.peakCoresPerPod * 1.001 && at.perPod.connections >= MIN_PARTICIPANTS_PER_POD;
  const relayBound = at.perPod.relayInPerSecond > at.perPod.messagesPerSecond;
  const votesPerSecond = w.participants / w.answerWindowS;
  // Every publish reaches each holder's subscription (its own included: it ignores it after delivery).
  const deliveries = at.rooms * at.publishesPerRoom * at.holders;
  const redisCores = (deliveries * u.redisCpuMsPerDelivery) / 1000;
  const shards = Math.max(1, Math.ceil(redisCores / f.redisCoresPerShard));
  const joinsPerSecond = w.participants / w.joinWindowS;
  const pgPeak = (at.commitsPerSecond * u.pgCpuMsPerCommit) / 1000;
  const pgJoin = (joinsPerSecond * u.pgCpuMsPerJoin) / 1000;
  const plan: Plan = {
    rooms: at.rooms,
    votesPerSecond,
    messagesPerSecond: w.participants * (at.perPod.messagesPerSecond / at.perPod.connections),
    pods,
    podsBoundBy: !fits
      ? "does not fit"
      : pods === byConnections
        ? "connections"
        : relayBound
          ? "cpu: relay"
          : "cpu: updates",
    perPod: at.perPod,
    podsPerRoom: at.holders,
    redis: { deliveriesPerSecond: deliveries, cores: redisCores, shards },
    postgres: {
      peakCores: pgPeak,
      joinWaveCores: pgJoin,
      commitsPerSecond: at.commitsPerSecond,
    },
    joinWave: { joinsPerSecond, zephyrCores: (joinsPerSecond * u.cpuMsPerJoin) / 1000 },
    saturatesFirst: "",
  };
  plan.saturatesFirst = firstToSaturate(plan, f);
  return plan;
}

/** The limit this crowd meets first, as a share of what one unit (pod, shard, database) offers. */
function firstToSaturate(p: Plan, f: Fleet): string {
  if (p.podsBoundBy === "does not fit" || p.podsBoundBy === "cpu: relay")
    return `relay: each pod hears ${fmt(p.perPod.relayInPerSecond)} snapshots/s from the ${fmt(p.podsPerRoom)} other pods of each room it holds, more than the updates it writes`;
  const pressures: Array<[string, number]> = [
    ["pod CPU at the peak (updates written)", p.perPod.peakCores / f.peakCoresPerPod],
    ["connections per pod (HPA target)", p.perPod.connections / f.connectionsPerPod],
    ["pod memory", p.perPod.rssMB / f.memoryLimitMB],
  ];
  const [name] = pressures.sort((a, b) => b[1] - a[1])[0] as [string, number];
  const notes: string[] = [name];
  if (p.redis.shards > 1) notes.push(`Redis pub/sub needs ${p.redis.shards} shards (Redis Cluster)`);
  const pgCores = Math.max(p.postgres.peakCores, p.postgres.joinWaveCores);
  if (pgCores > 4) notes.push(`PostgreSQL needs ${fmt(pgCores)} cores on one primary`);
  return notes.join("; ");
}

// biome-ignore lint/suspicious/noExplicitAny: reads report.json, whose shape bench.ts defines and bench.test.ts checks.
type Any = any;

/** The unit costs of a full benchmark report; undefined when a section they need failed or is missing. */
export function unitCosts(r: Any): UnitCosts | undefined {
  const k = r?.connections?.zephyr;
  const v = r?.votes?.group;
  const c = r?.fanout?.fanout;
  const j = r?.joinStorm;
  const rm = r?.rooms;
  if (
    typeof k?.idleCorePct !== "number" ||
    !v?.unit ||
    !r.votes?.naive?.unit ||
    !c?.cpuWindowSeconds ||
    !c?.messages ||
    !j?.perJoin ||
    typeof rm?.redisCpuMsPerDelivery !== "number"
  )
    return undefined;
  const cpuMsPerVote = (v.cpu.serverCorePct * 10) / v.votesPerSec;
  const idleCpuMsPerConnSecond = (k.idleCorePct * 10) / k.heldThroughout;
  // The fan-out run's server CPU over its window, less what its votes and its held connections cost, over the
  // updates it wrote.
  const serverMs = (c.cpu.serversCorePct / 100) * c.cpuWindowSeconds * 1000;
  const idleMs = idleCpuMsPerConnSecond * c.participants * c.cpuWindowSeconds;
  const cpuMsPerMessage = Math.max(0, serverMs - idleMs - c.votesAcked * cpuMsPerVote) / c.messages;
  return {
    rssBaseMB: k.rssBeforeMB,
    rssPerConnKB: k.rssPerConnKB,
    idleCpuMsPerConnSecond,
    cpuMsPerVote,
    cpuMsPerMessage,
    flushesPerSecond: v.unit.flushesPerSecond,
    pgCpuMsPerCommit: r.votes.naive.unit.postgresCpuMsPerVote,
    pgCpuMsPerJoin: j.perJoin.postgresCpuMs,
    cpuMsPerJoin: j.zephyr.serverCpuMsPerJoin,
    redisCpuMsPerDelivery: rm.redisCpuMsPerDelivery,
  };
}

/** Rounds to what a sizing table should claim: two significant figures. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "–";
  if (x === 0) return "0";
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  const step = 10 ** (magnitude - 1);
  const rounded = Math.round(x / step) * step;
  return Number(rounded.toFixed(Math.max(0, 1 - magnitude))).toLocaleString("en-US");
}

export const SIZES = [10_000, 100_000, 1_000_000];
export const ROOM_SIZES = [100, 1_000, 50_000];
export const PEAK: Omit<Workload, "participants" | "roomSize"> = { answerWindowS: 20, joinWindowS: 120 };

/** The sizing table of docs/capacity.md. */
export function sizingTable(u: UnitCosts, f: Fleet = CHART_FLEET): string {
  const rows = [
    "| Participants | Room size | Rooms | Votes/s at the peak | Updates/s written | Zephyr pods (bound by) | Cores per pod at the peak | Pods per room | Redis deliveries/s | Redis shards | PostgreSQL cores (peak / join wave) | Saturates first |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const participants of SIZES)
    for (const roomSize of ROOM_SIZES) {
      if (roomSize > participants) continue;
      const p = plan({ participants, roomSize, ...PEAK }, u, f);
      const fits = p.podsBoundBy !== "does not fit";
      const cell = (text: string) => (fits ? text : "–");
      rows.push(
        `| ${fmt(participants)} | ${fmt(roomSize)} | ${fmt(p.rooms)} | ${fmt(p.votesPerSecond)} | ${fmt(p.messagesPerSecond)} | ${fits ? `${fmt(p.pods)} (${p.podsBoundBy})` : "does not fit"} | ${cell(fmt(p.perPod.peakCores))} | ${cell(fmt(p.podsPerRoom))} | ${cell(fmt(p.redis.deliveriesPerSecond))} | ${cell(String(p.redis.shards))} | ${fmt(p.postgres.peakCores)} / ${fmt(p.postgres.joinWaveCores)} | ${p.saturatesFirst} |`,
      );
    }
  return rows.join("\n");
}

/** The unit costs themselves, for the page's "inputs" table. */
export function unitCostTable(u: UnitCosts): string {
  const rows: Array<[string, string, string]> = [
    ["RSS of an idle instance", `${fmt(u.rssBaseMB)} MB`, "connections"],
    ["RSS per held connection", `${fmt(u.rssPerConnKB)} KB`, "connections"],
    [
      "instance CPU per held connection, idle",
      `${fmt(u.idleCpuMsPerConnSecond * 1000)} µs per second`,
      "connections",
    ],
    ["instance CPU per durable vote", `${fmt(u.cpuMsPerVote)} ms`, "votes (group commit)"],
    ["instance CPU per vote-update written", `${fmt(u.cpuMsPerMessage)} ms`, "fan-out"],
    ["group commits per second, busy instance", fmt(u.flushesPerSecond), "votes (group commit)"],
    ["PostgreSQL CPU per commit of one vote", `${fmt(u.pgCpuMsPerCommit)} ms`, "votes (naive)"],
    ["instance CPU per join", `${fmt(u.cpuMsPerJoin)} ms`, "join storm"],
    ["PostgreSQL CPU per join", `${fmt(u.pgCpuMsPerJoin)} ms`, "join storm"],
    ["Redis CPU per pub/sub delivery", `${fmt(u.redisCpuMsPerDelivery * 1000)} µs`, "rooms"],
  ];
  return [
    "| Unit cost | Measured | Benchmark section |",
    "| --- | --- | --- |",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}
