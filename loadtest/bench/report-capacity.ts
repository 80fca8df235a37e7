/** The capacity anchor's part of REPORT.md: the model's prediction of the run next to its measurement. */

// biome-ignore lint/suspicious/noExplicitAny: renders report.json, whose shape bench.ts defines and bench.test.ts checks.
type Any = any;

const FIGURES: Array<[key: string, label: string]> = [
  ["rssMBPerPod", "RSS per instance, MB"],
  ["idleCoresPerPod", "CPU per instance between questions, cores"],
  ["messagesPerSecond", "vote-updates written per second (fleet)"],
  ["relayInPerSecondPerPod", "relay messages from peers per instance per second"],
  ["coresPerPod", "CPU per instance, cores"],
  ["postgresCores", "PostgreSQL CPU, cores"],
  ["redisCores", "Redis CPU, cores"],
  ["votesPerSecond", "durable votes per second"],
];

/** The model is useful for sizing while it is within this factor of what the anchor run measured. */
export const MODEL_TOLERANCE = 1.5;

/** measured ÷ predicted for each figure the model predicts; null where it predicted nothing. */
export function modelRatios(c: Any): Record<string, number | null> {
  return Object.fromEntries(
    FIGURES.map(([k]) => {
      const p = c?.predicted?.[k];
      const m = c?.measured?.[k];
      return [
        k,
        typeof p === "number" && p > 0 && typeof m === "number" ? Math.round((100 * m) / p) / 100 : null,
      ];
    }),
  );
}

/** Figures the sizing rests on (instances' CPU and memory, the messages they write), within the tolerance. */
export const SIZING_FIGURES = ["rssMBPerPod", "messagesPerSecond", "coresPerPod", "votesPerSecond"];

export function renderCapacity(c: Any, lat: (s: Any) => string) {
  const lines = ["## Capacity anchor: the sizing model against a measured crowd", ""];
  if (c?.error) return { lines: [...lines, "```", c.error, "```", ""] };
  if (!c) return { lines: [] };
  const ratios = modelRatios(c);
  lines.push(
    `${c.joined}/${c.participants} participants (raw WebSocket, spread over ${c.pods} instances with one Redis and one PostgreSQL) in ${c.rooms} rooms of ${c.roomSize}, each room's members on every instance, joined in ${c.joinSeconds} s; then everyone answers at the pace of a question answered within ${c.answerWindowS} s (each vote a durable write) for ${c.seconds} s: ${c.votesAcked}/${c.votesSent} votes acknowledged, ${c.voteErrors} errors, ack ${lat(c.ack)}. The prediction is docs/capacity.md's model for the same crowd, pace and pod count, from the unit costs of ${c.costsFrom}.`,
    "",
    "| Figure | model | measured | measured ÷ model |",
    "| --- | --- | --- | --- |",
    ...FIGURES.map(
      ([k, label]) =>
        `| ${label} | ${c.predicted?.[k] ?? "–"} | ${c.measured?.[k] ?? "–"} | ${ratios[k] ?? "–"} |`,
    ),
    "",
    `RSS per instance: ${(c.rssMB ?? []).join(", ")} MB; cpu ${Object.entries(c.cpu ?? {})
      .map(([k, v]) => `${k.replace(/CorePct$/, "")} ${v}%`)
      .join(", ")}.`,
    "",
  );
  const off = SIZING_FIGURES.filter((k) => {
    const r = ratios[k];
    return r === null || r === undefined || r > MODEL_TOLERANCE || r < 1 / MODEL_TOLERANCE;
  });
  return {
    lines,
    target: {
      section: "Capacity",
      what: `sizing model vs the anchor run (${c.participants} participants, rooms of ${c.roomSize}): CPU, memory, updates, votes`,
      target: `within ${MODEL_TOLERANCE}× of measured`,
      measured: SIZING_FIGURES.map((k) => `${k} ${ratios[k] ?? "–"}`).join(", "),
      met: off.length === 0 && c.votesAcked === c.votesSent,
      explain: `outside the tolerance: ${off.join(", ") || "none"}; ${c.votesAcked}/${c.votesSent} votes acknowledged`,
    },
  };
}
