import { check } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { clearTimeout, setTimeout } from "k6/timers";
import { INSTANCE_URLS } from "../lib/config.ts";
import { selectProfile } from "../lib/profiles.ts";
import { connectSocketIo } from "../lib/socketio.ts";
import { summaryHandler } from "../lib/summary.ts";
import {
  activateQuestion,
  type CreatedPoll,
  createPresentation,
  firstAck,
  getResults,
  type JoinData,
  type LiveResults,
} from "../lib/zephyr.ts";

/**
 * A whole talk: one room steps through five questions, one of each type. Every VU joins (spread over
 * INSTANCE_URLS) and answers whichever question is active, following `poll-state`; VU 1 is also the presenter and
 * moves on once everyone answered (or after QUESTION_SECONDS), so the run paces itself at any size. Every
 * answer must be acknowledged, and every question's final total must count every participant.
 */

const profile = selectProfile();
const QUESTIONS = [
  { type: "single", text: "Ready?", options: ["yes", "no"] },
  { type: "multiple", text: "What do you use?", options: ["k8s", "helm", "grafana", "k6"], maxChoices: 3 },
  { type: "rating", text: "How clear was this?", min: 1, max: 5 },
  { type: "wordcloud", text: "One word", maxEntries: 2 },
  { type: "open", text: "Questions?" },
];
const QUESTION_SECONDS = 20;
const answerAck = new Trend("zephyr_answer_ack_duration", true);
const answerErrors = new Rate("zephyr_answer_errors");
const answersAcked = new Counter("zephyr_answers_acked");
const totalsExact = new Rate("zephyr_question_totals_exact");

export const options: Options = {
  scenarios: {
    presentation: {
      executor: "per-vu-iterations",
      exec: "participant",
      vus: profile.burstVoters,
      iterations: 1,
      maxDuration: "5m",
    },
  },
  thresholds: {
    zephyr_answer_ack_duration: ["p(95)<150"],
    zephyr_answer_errors: ["rate<0.01"],
    zephyr_question_totals_exact: ["rate==1"],
    checks: ["rate>0.99"],
  },
};

/** VU `vu`'s answer to question `q`. */
function answerOf(q: number, vu: number): Record<string, unknown> {
  switch (q) {
    case 0:
      return { optionIndex: vu % 2 };
    case 1:
      return { optionIndexes: vu % 3 ? [0, vu % 4] : [vu % 4] };
    case 2:
      return { value: 1 + (vu % 5) };
    case 3:
      return { entries: [`word ${vu % 12}`] };
    default:
      return { text: `question from participant ${vu}` };
  }
}

interface Data {
  poll: CreatedPoll;
  voters: number;
}

export function setup(): Data {
  const poll = createPresentation({ title: "k6 presentation", questions: QUESTIONS });
  if (!poll) throw new Error("setup could not create the presentation");
  return { poll, voters: profile.burstVoters };
}

export function participant(data: Data): void {
  const presenter = __VU === 1;
  const url = INSTANCE_URLS[(__VU - 1) % INSTANCE_URLS.length] as string;
  const answered = new Set<number>();
  let active = -1;
  let finished = false;
  let stepTimer: ReturnType<typeof setTimeout> | undefined;
  const io = connectSocketIo(url, {
    onConnect(client) {
      client.session.on("poll-state", (...args: unknown[]) => {
        const s = args[0] as { activeQuestion?: number };
        if (s.activeQuestion === undefined || s.activeQuestion <= active) return;
        follow(s.activeQuestion);
      });
      client.session.on("vote-update", (...args: unknown[]) => {
        const u = args[0] as LiveResults;
        if (presenter && u.questionIndex === active && (u.total ?? 0) >= data.voters) step();
      });
      client.emit("join-poll", { roomCode: data.poll.roomCode, nickname: `talk-${__VU}` }, (err, args) => {
        const join = firstAck<JoinData & { poll: { activeQuestion: number } }>(args);
        if (!check(join, { "join-poll ok": (a) => !err && a.ok })) return abort();
        follow(join.data?.poll.activeQuestion ?? 0);
      });

      function follow(q: number) {
        active = q;
        if (answered.has(q)) return;
        answered.add(q);
        client.emit("submit-vote", { questionIndex: q, ...answerOf(q, __VU) }, (verr, vargs, rtt) => {
          const ok = check(firstAck(vargs), { "answer acknowledged durable": (a) => !verr && a.ok });
          answerErrors.add(!ok);
          if (!ok) return abort();
          answerAck.add(rtt);
          answersAcked.add(1);
          if (q === QUESTIONS.length - 1 && !presenter) finish();
        });
        if (presenter) {
          if (stepTimer !== undefined) clearTimeout(stepTimer);
          stepTimer = setTimeout(step, QUESTION_SECONDS * 1000);
        }
      }
    },
    onError: () => abort(),
  });
  const guard = setTimeout(() => abort(), (QUESTIONS.length * QUESTION_SECONDS + 30) * 1000);

  /** The presenter moves to the next question, or ends once the last one is answered. */
  function step() {
    if (finished || active < 0) return;
    if (stepTimer !== undefined) clearTimeout(stepTimer);
    if (active === QUESTIONS.length - 1) return finish();
    if (!activateQuestion(data.poll, active + 1)) abort();
  }
  function finish() {
    if (finished) return;
    finished = true;
    clearTimeout(guard);
    if (stepTimer !== undefined) clearTimeout(stepTimer);
    io.close();
  }
  function abort() {
    if (finished) return;
    answerErrors.add(true);
    finish();
  }
}

export function teardown(data: Data): void {
  for (let q = 0; q < QUESTIONS.length; q++) {
    const r = getResults(data.poll.roomCode, undefined, q);
    totalsExact.add(
      check(r, { [`question ${q}: every participant's answer counted`]: (x) => x?.total === data.voters }),
    );
  }
}

export const handleSummary = summaryHandler("presentation");
