import { useEffect, useRef, useState } from "preact/hooks";
import { LIMITS } from "../../../src/domain/limits.js";
import { ErrorText, Page, StatusBanner } from "../components/Chrome.js";
import { Results, ResultsAnnouncer } from "../components/Results.js";
import { t } from "../i18n/index.js";
import { ApiError, api } from "../lib/api.js";
import { errorMessage } from "../lib/errors.js";
import { useLiveRoom } from "../lib/live-room.js";
import type { LiveResults, PollView, QuestionView, YourAnswer } from "../lib/model.js";
import { request, type ZephyrSocket } from "../lib/socket.js";
import { forgetToken, readToken, saveToken } from "../lib/tokens.js";

type Phase = "loading" | "nickname" | "joining" | "joined" | "notFound" | "deleted" | "full";
/** Join errors that say nothing about the participant: try again shortly instead of asking for a new nickname. */
const TRANSIENT = new Set(["TIMEOUT", "UNAVAILABLE", "INTERNAL", "RATE_LIMITED"]);
/** What a participant answered to one question, in the fields it was answered with. */
type Answer = YourAnswer extends infer A ? (A extends unknown ? Omit<A, "questionIndex"> : never) : never;

/**
 * /j/ROOM on a phone: nickname, then whatever question the presenter has active, with the participant's own
 * answer marked and the room's results unless hidden. Identity is the participant token kept per room, so a
 * reload or a reconnect to any instance re-joins as the same participant with its answers.
 */
export default function AudiencePage({ roomCode }: { roomCode: string }) {
  const [phase, setPhase] = useState<Phase>("loading");
  const [answers, setAnswers] = useState<Record<number, Answer>>({});
  const [error, setError] = useState<string>();
  const [sent, setSent] = useState<string>();
  const [nickname, setNickname] = useState("");
  const phaseRef = useRef(phase);
  phaseRef.current = phase;

  function joined(data: {
    participantToken: string;
    poll: PollView;
    results: LiveResults;
    yourAnswers: YourAnswer[];
  }) {
    saveToken("participant", roomCode, data.participantToken);
    room.setPoll(data.poll);
    room.addResults(data.results);
    setAnswers(Object.fromEntries(data.yourAnswers.map(({ questionIndex, ...a }) => [questionIndex, a])));
    setError(undefined);
    setPhase("joined");
  }

  function joinFailed(code: string, message: string, withToken: boolean) {
    if (phaseRef.current === "deleted") return;
    if (code === "POLL_NOT_FOUND") return setPhase(phaseRef.current === "joined" ? "deleted" : "notFound");
    if (code === "POLL_FULL") return setPhase("full");
    if (withToken && (code === "UNAUTHORIZED" || code === "FORBIDDEN")) forgetToken("participant", roomCode);
    setError(errorMessage({ code, message }));
    setPhase("nickname");
  }

  async function rejoin(socket: ZephyrSocket): Promise<"retry" | undefined> {
    const participantToken = readToken("participant", roomCode);
    if (!participantToken) {
      if (phaseRef.current === "loading") setPhase("nickname");
      return;
    }
    const res = await request(socket, "join-poll", { roomCode, participantToken });
    if (res.ok) joined(res.data);
    else if (!TRANSIENT.has(res.error.code)) joinFailed(res.error.code, res.error.message, true);
    else {
      // Keep the participant: say what happened and ask again while the connection lasts.
      setError(errorMessage(res.error));
      return "retry";
    }
  }

  const room = useLiveRoom(roomCode, { join: rejoin, onDeleted: () => setPhase("deleted") });
  const { poll, question, current, connected } = room;

  useEffect(() => {
    document.title = `${roomCode} · ${t("app.name")}`;
  });

  useEffect(() => {
    let stopped = false;
    // The title before the nickname, and a clear answer for a mistyped code before anyone types a name.
    api.poll(roomCode).then(
      (p) => !stopped && room.setPoll((held) => held ?? p),
      (err) => !stopped && err instanceof ApiError && err.code === "POLL_NOT_FOUND" && setPhase("notFound"),
    );
    return () => {
      stopped = true;
    };
  }, [roomCode]);

  useEffect(() => setSent(undefined), [question?.index]);
  // A new question (or the first one after joining) replaces the controls under the focus: move the focus to the
  // question's heading, so keyboard and screen reader users continue from there and hear the new question.
  useEffect(() => {
    if (phase === "joined") document.getElementById("question-text")?.focus();
  }, [phase, question?.index]);
  // An own open answer, once on the room's wall, stays "shown" (it may later scroll out of the newest 50).
  useEffect(() => {
    if (question?.type !== "open" || !current?.answers) return;
    const visible = new Set(current.answers.map((a) => a.id));
    setAnswers((all) => {
      const held = all[question.index];
      if (!held || !("answers" in held)) return all;
      if (!held.answers.some((a) => a.status === "pending" && visible.has(a.answerId))) return all;
      const answers = held.answers.map((a) =>
        a.status === "pending" && visible.has(a.answerId) ? { ...a, status: "shown" as const } : a,
      );
      return { ...all, [question.index]: { answers } };
    });
  }, [question, current]);

  async function joinWithNickname(e: Event) {
    e.preventDefault();
    const socket = room.socket.current;
    if (!socket) return;
    setPhase("joining");
    const res = await request(socket, "join-poll", { roomCode, nickname: nickname.trim() });
    if (res.ok) joined(res.data);
    else joinFailed(res.error.code, res.error.message, false);
  }

  async function submit(q: QuestionView, fields: Record<string, unknown>): Promise<boolean> {
    const socket = room.socket.current;
    if (!socket) return false;
    setError(undefined);
    setSent(undefined);
    const res = await request(socket, "submit-vote", { questionIndex: q.index, ...fields } as never);
    if (!res.ok) {
      setError(errorMessage(res.error));
      return false;
    }
    const { questionIndex: _, ...recorded } = res.data as Record<string, unknown>;
    setAnswers((all) => {
      if (q.type !== "open") return { ...all, [q.index]: recorded as Answer };
      const held = all[q.index];
      const earlier = held && "answers" in held ? held.answers : [];
      const status = q.moderation === "approve" ? ("pending" as const) : ("shown" as const);
      const added = { answerId: String(recorded.answerId), text: String(recorded.text), status };
      return { ...all, [q.index]: { answers: [...earlier, added] } };
    });
    setSent(t("audience.sent"));
    return true;
  }

  return (
    <Page>
      <StatusBanner text={connected || phase === "loading" ? undefined : t("status.reconnecting")} />
      {poll?.title && <p class="poll-title">{poll.title}</p>}
      {phase === "loading" && <p>{t("status.loading")}</p>}
      {phase === "notFound" && <Notice text={t("audience.notFound", { room: roomCode })} />}
      {phase === "deleted" && <Notice text={t("audience.deleted")} />}
      {phase === "full" && <Notice text={t("audience.full")} />}
      {(phase === "nickname" || phase === "joining") && (
        <form class="stack" onSubmit={joinWithNickname}>
          <h1>{t("join.title")}</h1>
          <div class="field">
            <label for="nickname">{t("audience.nickname")}</label>
            <input
              id="nickname"
              required
              autoComplete="nickname"
              maxLength={LIMITS.nicknameMaxCodeUnits}
              aria-describedby="nickname-hint"
              value={nickname}
              onInput={(e) => setNickname(e.currentTarget.value)}
            />
            <p id="nickname-hint" class="hint">
              {t("audience.nicknameHint")}
            </p>
          </div>
          <button type="submit" class="primary" disabled={phase === "joining" || !nickname.trim()}>
            {phase === "joining" ? t("audience.joining") : t("audience.join")}
          </button>
        </form>
      )}
      {phase === "joined" && poll && question && (
        <section aria-labelledby="question-text">
          <p class="muted">
            {t("presenter.questionOf", { n: question.index + 1, count: poll.questions.length })}
          </p>
          <h1 id="question-text" class="question-text" tabIndex={-1}>
            {question.text}
          </h1>
          <div role="status">{poll.status === "closed" && <p class="notice">{t("audience.closed")}</p>}</div>
          <AnswerControls
            key={question.index}
            question={question}
            answer={answers[question.index]}
            results={current}
            closed={poll.status === "closed" || !connected}
            submit={(fields) => submit(question, fields)}
          />
          <h2 class="results-heading">{t("audience.results")}</h2>
          <Results question={question} results={current} mine={mineOf(question, answers[question.index])} />
        </section>
      )}
      <ErrorText text={error} />
      <p role="status" class="sent">
        {sent}
      </p>
      <ResultsAnnouncer question={phase === "joined" ? question : undefined} results={current} />
    </Page>
  );
}

function Notice({ text }: { text: string }) {
  return (
    <div class="stack" role="status">
      <h1 class="notice">{text}</h1>
      <p>
        <a href="/join">{t("nav.join")}</a>
      </p>
    </div>
  );
}

/** The rows of the results the participant chose, marked as theirs. */
function mineOf(q: QuestionView, a: Answer | undefined): number[] {
  if (!a) return [];
  if ("optionIndex" in a) return [a.optionIndex];
  if ("optionIndexes" in a) return a.optionIndexes;
  if ("value" in a && q.type === "rating") return [a.value - q.min];
  return [];
}

interface ControlProps {
  question: QuestionView;
  answer: Answer | undefined;
  results: LiveResults | undefined;
  closed: boolean;
  submit: (fields: Record<string, unknown>) => Promise<boolean>;
}

function AnswerControls(props: ControlProps) {
  switch (props.question.type) {
    case "single":
      return <SingleChoice {...props} />;
    case "multiple":
      return <MultipleChoice {...props} />;
    case "rating":
      return <Rating {...props} />;
    case "wordcloud":
      return <Words {...props} />;
    case "open":
      return <OpenText {...props} />;
  }
}

function useBusy() {
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };
  return [busy, run] as const;
}

function SingleChoice({ question, answer, closed, submit }: ControlProps) {
  const [busy, run] = useBusy();
  if (question.type !== "single") return null;
  const chosen = answer && "optionIndex" in answer ? answer.optionIndex : undefined;
  const locked = chosen !== undefined && !question.allowVoteChange;
  return (
    <div class="choices">
      {question.options.map((option, i) => (
        <button
          key={i}
          type="button"
          class="choice"
          aria-pressed={chosen === i}
          disabled={closed || busy || (locked && chosen !== i)}
          onClick={() => run(() => submit({ optionIndex: i }))}
        >
          {option}
        </button>
      ))}
    </div>
  );
}

function MultipleChoice({ question, answer, closed, submit }: ControlProps) {
  const sent = answer && "optionIndexes" in answer ? answer.optionIndexes : undefined;
  const [selected, setSelected] = useState<number[]>(sent ?? []);
  const [busy, run] = useBusy();
  if (question.type !== "multiple") return null;
  const locked = sent !== undefined && !question.allowVoteChange;
  const full = selected.length >= question.maxChoices;
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => submit({ optionIndexes: selected }));
      }}
    >
      <fieldset class="plain">
        <legend class="hint">{t("audience.chooseUpTo", { max: question.maxChoices })}</legend>
        <div class="choices">
          {question.options.map((option, i) => {
            const on = selected.includes(i);
            return (
              <button
                key={i}
                type="button"
                class="choice"
                aria-pressed={on}
                disabled={closed || locked || (!on && full)}
                onClick={() =>
                  setSelected(on ? selected.filter((x) => x !== i) : [...selected, i].sort((a, b) => a - b))
                }
              >
                {option}
              </button>
            );
          })}
        </div>
      </fieldset>
      <button type="submit" class="primary" disabled={closed || locked || busy || selected.length === 0}>
        {busy ? t("audience.sending") : t("audience.send")}
      </button>
    </form>
  );
}

function Rating({ question, answer, closed, submit }: ControlProps) {
  const sent = answer && "value" in answer ? answer.value : undefined;
  const [value, setValue] = useState<number | undefined>(sent);
  const [busy, run] = useBusy();
  if (question.type !== "rating") return null;
  const locked = sent !== undefined && !question.allowVoteChange;
  const values = Array.from({ length: question.max - question.min + 1 }, (_, i) => question.min + i);
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (value !== undefined) void run(() => submit({ value }));
      }}
    >
      <fieldset class="rating" disabled={closed || locked}>
        <legend>{t("audience.ratingGroup")}</legend>
        <div class="scale">
          {values.map((v) => (
            <label key={v} class="scale-value">
              <input
                type="radio"
                name={`rating-${question.index}`}
                value={v}
                checked={value === v}
                onChange={() => setValue(v)}
              />
              <span>{v}</span>
            </label>
          ))}
        </div>
        {(question.labels?.min || question.labels?.max) && (
          <p class="scale-labels" aria-hidden="true">
            <span>{question.labels?.min}</span>
            <span>{question.labels?.max}</span>
          </p>
        )}
      </fieldset>
      <button type="submit" class="primary" disabled={closed || locked || busy || value === undefined}>
        {busy ? t("audience.sending") : t("audience.send")}
      </button>
    </form>
  );
}

function Words({ question, answer, closed, submit }: ControlProps) {
  const count = question.type === "wordcloud" ? question.maxEntries : 1;
  const [words, setWords] = useState<string[]>(() => Array.from({ length: count }, () => ""));
  const [busy, run] = useBusy();
  if (question.type !== "wordcloud") return null;
  if (answer && "entries" in answer) {
    return (
      <p class="sent">
        {t("audience.yourAnswer")}: <span class="your-words">{answer.entries.join(", ")}</span>
      </p>
    );
  }
  const entries = words.map((w) => w.trim()).filter(Boolean);
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => submit({ entries }));
      }}
    >
      {words.map((word, i) => (
        <div class="field" key={i}>
          <label for={`word-${i}`}>{t("audience.word", { n: i + 1 })}</label>
          <input
            id={`word-${i}`}
            maxLength={LIMITS.wordMax}
            autoComplete="off"
            value={word}
            disabled={closed}
            onInput={(e) => {
              const next = [...words];
              next[i] = e.currentTarget.value;
              setWords(next);
            }}
          />
        </div>
      ))}
      <button type="submit" class="primary" disabled={closed || busy || entries.length === 0}>
        {busy ? t("audience.sending") : t("audience.send")}
      </button>
    </form>
  );
}

function OpenText({ question, answer, closed, submit }: ControlProps) {
  const [text, setText] = useState("");
  const [busy, run] = useBusy();
  if (question.type !== "open") return null;
  const mine = answer && "answers" in answer ? answer.answers : [];
  const left = LIMITS.openAnswersPerParticipant - mine.length;
  return (
    <div class="stack">
      {left > 0 && (
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              if (await submit({ text: text.trim() })) setText("");
            });
          }}
        >
          <div class="field">
            <label for="open-text">{t("audience.text")}</label>
            <textarea
              id="open-text"
              rows={3}
              maxLength={LIMITS.openAnswerMax}
              aria-describedby="open-left"
              value={text}
              disabled={closed}
              onInput={(e) => setText(e.currentTarget.value)}
            />
            <p id="open-left" class="hint">
              {t("audience.textLeft", { count: left, max: LIMITS.openAnswersPerParticipant })}
            </p>
          </div>
          <button type="submit" class="primary" disabled={closed || busy || !text.trim()}>
            {busy ? t("audience.sending") : t("audience.send")}
          </button>
        </form>
      )}
      {mine.length > 0 && (
        <section aria-labelledby="your-texts">
          <h2 id="your-texts">{t("audience.yourTexts")}</h2>
          <ul class="your-texts">
            {mine.map((a) => {
              return (
                <li key={a.answerId}>
                  <span class="answer-text">{a.text}</span>{" "}
                  <span class="badge">{t(`audience.status.${a.status}`)}</span>
                </li>
              );
            })}
          </ul>
        </section>
      )}
    </div>
  );
}
