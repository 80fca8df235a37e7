import { api } from "../../../test/zephyr.js";
import { Histogram } from "../hist.js";
import { startZephyr, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { cpuWatch } from "../measure.js";
import { S } from "../options.js";
import { connectAcross, stopWorkers, takeWorker } from "../workers.js";

/**
 * Word-cloud entries/s durable against single-choice votes/s at the same settings: one instance with the default
 * batching, a room of S.answerClients participants joined beforehand, and everyone answering at once (a word
 * cloud is answered once per participant, so a closed loop of changed answers, as in the votes section, does not
 * exist for it). Rounds alternate the two question types on fresh polls; the median round is the figure.
 */

export const ENTRIES_PER_ANSWER = 3;

async function createQuestion(base: string, kind: "single" | "wordcloud") {
  const question =
    kind === "single"
      ? { type: "single", text: "bench", options: ["a", "b", "c", "d"] }
      : { type: "wordcloud", text: "bench", maxEntries: ENTRIES_PER_ANSWER };
  const r = await api(base, "/api/polls", { body: { questions: [question] } });
  if (r.status !== 201) throw new Error(`create poll: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { roomCode: string };
}

interface BurstRun {
  rtt: number[];
  errors: number;
  startedAt: number;
  lastAckAt: number;
  firstError?: string;
}

async function burst(url: string, pid: number, kind: "single" | "wordcloud") {
  const poll = await createQuestion(url, kind);
  const workers = [takeWorker(), takeWorker()];
  await Promise.all(workers.map((w) => w.call("count")));
  await connectAcross(workers, {
    urls: [url],
    total: S.answerClients,
    roomCode: poll.roomCode,
    concurrency: S.stormConcurrency,
  });
  const cpu = cpuWatch({ server: [pid], clients: workers.map((w) => w.child.pid as number) });
  const runs = await Promise.all(
    workers.map((w, i) => w.call<BurstRun>("answer-once", { kind, offset: i * S.answerClients })),
  );
  const cpuUsed = cpu();
  const stored = (await api(url, `/api/polls/${poll.roomCode}/results`)).body.total as number;
  await stopWorkers(workers);
  const h = new Histogram();
  for (const r of runs) for (const v of r.rtt) h.add(v);
  const answers = runs.reduce((a, r) => a + r.rtt.length, 0);
  const seconds =
    (Math.max(...runs.map((r) => r.lastAckAt)) - Math.min(...runs.map((r) => r.startedAt))) / 1000;
  const answersPerSec = Math.round(answers / Math.max(0.001, seconds));
  return {
    answers,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    firstError: runs.find((r) => r.firstError)?.firstError,
    seconds: Math.round(seconds * 100) / 100,
    answersPerSec,
    entriesPerSec: kind === "wordcloud" ? answersPerSec * ENTRIES_PER_ANSWER : answersPerSec,
    ack: h.summary(),
    stored,
    storedMatchesAcks: stored === answers,
    cpu: cpuUsed,
  };
}

export async function benchAnswers() {
  log(
    `answers: ${S.answerClients} participants answer at once, single choice vs word cloud (${ENTRIES_PER_ANSWER} entries), ${S.answerRounds} rounds`,
  );
  const zz = await startZephyr({}, "answers");
  const rounds = [];
  for (let i = 1; i <= S.answerRounds; i++) {
    const single = await burst(zz.url, zz.child.pid as number, "single");
    const wordcloud = await burst(zz.url, zz.child.pid as number, "wordcloud");
    const ratio = Math.round((100 * wordcloud.entriesPerSec) / Math.max(1, single.answersPerSec)) / 100;
    rounds.push({ single, wordcloud, ratio });
  }
  const [profile] = await stopZephyrs([zz], "answers");
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];
  return {
    clients: S.answerClients,
    entriesPerAnswer: ENTRIES_PER_ANSWER,
    ...median,
    rounds: rounds.map((r) => ({
      singleVotesPerSec: r.single.answersPerSec,
      wordcloudEntriesPerSec: r.wordcloud.entriesPerSec,
      ratio: r.ratio,
    })),
    profile,
  };
}
