/**
 * The scaling timeline of one recorded run of chart/test/controlplane/autoscaling.test.ts, drawn as Mermaid
 * charts (GitHub renders them in place; no image to regenerate by hand) and tables. The data is the test's own
 * record, committed as docs/autoscaling-run.json; nothing here is typed in.
 */
import { z } from "zod";

const Sample = z.object({
  t: z.number(),
  replicas: z.number().int(),
  desired: z.number().int(),
  readyPods: z.number().int(),
  metrics: z.record(z.string(), z.number()),
});
const Run = z.object({
  recorded: z.string(),
  values: z.object({ autoscaling: z.object({ minReplicas: z.number(), maxReplicas: z.number() }) }),
  marks: z.array(z.object({ t: z.number(), label: z.string() })),
  rescales: z.array(z.object({ t: z.number(), replicas: z.number().int(), reason: z.string() })),
  timeline: z.array(Sample),
});
export type AutoscalingRun = z.infer<typeof Run>;

export function parseRun(json: string): AutoscalingRun {
  return Run.parse(JSON.parse(json));
}

/** Each scenario: where it starts and ends on the timeline (its marks), and the metric that drives it. */
const SCENARIOS = [
  {
    title: "CPU above 70 % of the request",
    from: "CPU load",
    to: "CPU request raised",
    metric: "cpuUtilization",
    unit: "% of the CPU request (pod average)",
    target: 70,
  },
  {
    title: "WebSocket connections above 5,000 per pod, then an adapter outage and a node drain",
    from: "12,000 connections",
    to: "2,400 requests/s",
    metric: "websocket_connections_current",
    unit: "connections per pod (average)",
    target: 5000,
  },
  {
    title: "Request rate above 500 per pod",
    from: "2,400 requests/s",
    to: undefined,
    metric: "http_requests_per_second",
    unit: "requests/s per pod (average)",
    target: 500,
  },
] as const;

const STEP_SECONDS = 5;

/** The last sample at or before each tick of STEP_SECONDS, so the charts have evenly spaced points. */
function resample(samples: AutoscalingRun["timeline"], from: number, to: number) {
  const ticks: { t: number; sample: AutoscalingRun["timeline"][number] | undefined }[] = [];
  for (let t = from; t <= to; t += STEP_SECONDS) {
    const sample = samples.filter((s) => s.t <= t).at(-1);
    ticks.push({ t: Math.round(t - from), sample });
  }
  return ticks;
}

function chart(title: string, yAxis: string, ticks: number[], lines: number[][], yMax: number): string {
  return [
    "```mermaid",
    "xychart-beta",
    `  title "${title}"`,
    `  x-axis "seconds" [${ticks.join(", ")}]`,
    `  y-axis "${yAxis}" 0 --> ${yMax}`,
    ...lines.map((l) => `  line [${l.join(", ")}]`),
    "```",
  ].join("\n");
}

export function timelineMarkdown(run: AutoscalingRun): string {
  const { minReplicas, maxReplicas } = run.values.autoscaling;
  const end = run.timeline.at(-1)?.t ?? 0;
  const markAt = (label: string | undefined) => run.marks.find((m) => m.label === label)?.t;
  const out: string[] = [
    `Recorded ${run.recorded.slice(0, 16).replace("T", " ")} UTC; replicas ${minReplicas}–${maxReplicas} (test values).`,
  ];
  for (const s of SCENARIOS) {
    const from = markAt(s.from);
    if (from === undefined) continue;
    const to = markAt(s.to) ?? end;
    const ticks = resample(run.timeline, from, to);
    const value = (x: (typeof ticks)[number]) => Math.round(x.sample?.metrics[s.metric] ?? 0);
    const metricMax = Math.max(s.target * 2, ...ticks.map(value));
    out.push(
      "",
      `### ${s.title}`,
      "",
      chart(
        "Replicas (the HPA's currentReplicas)",
        "replicas",
        ticks.map((x) => x.t),
        [ticks.map((x) => x.sample?.replicas ?? 0)],
        maxReplicas + 1,
      ),
      "",
      chart(
        `${s.metric} as the HPA saw it (0 also while it had no value), and its target`,
        s.unit,
        ticks.map((x) => x.t),
        [ticks.map(value), ticks.map(() => s.target)],
        Math.ceil(metricMax / 10) * 10,
      ),
      "",
      "| s | What happened |",
      "| ---: | --- |",
      ...[
        ...run.marks.filter((m) => m.t >= from && m.t < to).map((m) => ({ t: m.t, text: m.label })),
        ...run.rescales
          .filter((r) => r.t >= from && r.t < to)
          .map((r) => ({
            t: r.t,
            text: `**→ ${r.replicas} replicas**: ${r.reason.replace(/^New size: \d+; reason: /, "")}`,
          })),
      ]
        .sort((a, b) => a.t - b.t)
        .map((e) => `| ${Math.round(e.t - from)} | ${e.text} |`),
    );
  }
  return out.join("\n");
}
