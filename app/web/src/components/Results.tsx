import { useEffect, useMemo, useRef } from "preact/hooks";
import { formatDecimal, formatPercent, t } from "../i18n/index.js";
import { createAnnouncer } from "../lib/announce.js";
import { choicesOf, type LiveResults, type QuestionView } from "../lib/model.js";

interface Props {
  question: QuestionView;
  results: LiveResults | undefined;
  /** Indexes of the rows the viewer chose (audience), marked as theirs. */
  mine?: number[];
}

/** One question's live results, for every type; user text is always rendered as text (JSX escapes it). */
export function Results({ question, results, mine = [] }: Props) {
  if (!results || results.questionIndex !== question.index) return <p class="muted">{t("status.loading")}</p>;
  if (
    results.hidden &&
    results.counts === undefined &&
    results.distribution === undefined &&
    results.words === undefined &&
    results.answers === undefined
  ) {
    return <p class="notice">{t("audience.hidden")}</p>;
  }
  switch (question.type) {
    case "single":
    case "multiple":
      return (
        <Bars
          labels={choicesOf(question)}
          counts={results.counts ?? []}
          total={results.total ?? 0}
          mine={mine}
        />
      );
    case "rating":
      return (
        <div>
          <Bars
            labels={choicesOf(question).map((v, i, all) =>
              i === 0 && question.labels?.min
                ? `${v} · ${question.labels.min}`
                : i === all.length - 1 && question.labels?.max
                  ? `${v} · ${question.labels.max}`
                  : v,
            )}
            counts={results.distribution ?? []}
            total={results.total ?? 0}
            mine={mine}
          />
          {results.average != null && (
            <p class="average">{t("results.average", { value: formatDecimal(results.average) })}</p>
          )}
        </div>
      );
    case "wordcloud":
      return <WordCloud words={results.words ?? []} />;
    case "open":
      return <Wall answers={results.answers ?? []} />;
  }
}

function Bars({
  labels,
  counts,
  total,
  mine,
}: {
  labels: string[];
  counts: number[];
  total: number;
  mine: number[];
}) {
  return (
    <div>
      <ol class="bars">
        {labels.map((label, i) => {
          const count = counts[i] ?? 0;
          const share = total > 0 ? count / total : 0;
          return (
            <li key={i} class={mine.includes(i) ? "bar mine" : "bar"}>
              <span class="bar-label">
                {label}
                {mine.includes(i) && <span class="badge">{t("audience.yourAnswer")}</span>}
              </span>
              <span class="bar-value">
                <span class="count">{count}</span> <span class="percent">{formatPercent(share)}</span>
              </span>
              <span class="bar-track" aria-hidden="true">
                <span class="bar-fill" style={{ inlineSize: `${share * 100}%` }} />
              </span>
            </li>
          );
        })}
      </ol>
      <p class="muted">{t("results.votes", { count: total })}</p>
    </div>
  );
}

function WordCloud({ words }: { words: Array<{ text: string; count: number }> }) {
  if (words.length === 0) return <p class="muted">{t("results.noWords")}</p>;
  const most = Math.max(...words.map((w) => w.count));
  return (
    <ul class="cloud">
      {words.map((w) => (
        <li key={w.text} style={{ fontSize: `${1 + 2.2 * (w.count / most)}em` }}>
          <span class="word">{w.text}</span> <span class="word-count">{w.count}</span>
        </li>
      ))}
    </ul>
  );
}

export function Wall({ answers }: { answers: NonNullable<LiveResults["answers"]> }) {
  if (answers.length === 0) return <p class="muted">{t("results.noAnswers")}</p>;
  return (
    <ul class="wall">
      {answers.map((a) => (
        <li key={a.id}>
          <p class="answer-text">{a.text}</p>
          <p class="by">{t("results.by", { nickname: a.nickname })}</p>
        </li>
      ))}
    </ul>
  );
}

/** The page's polite live region: a short summary of the active question's results, at most every few seconds. */
export function ResultsAnnouncer({ question, results }: { question?: QuestionView; results?: LiveResults }) {
  const region = useRef<HTMLDivElement>(null);
  const announcer = useMemo(() => createAnnouncer(() => region.current), []);
  useEffect(() => () => announcer.stop(), [announcer]);
  useEffect(() => {
    if (question && results) announcer.say(summarise(question, results));
  }, [question, results]);
  return <div ref={region} class="visually-hidden" aria-live="polite" />;
}

/** A short text of the results for the polite live region. */
function summarise(question: QuestionView, results: LiveResults): string {
  if (results.hidden && results.total === undefined) return t("results.hidden");
  const rows = choicesOf(question);
  const counts = question.type === "rating" ? results.distribution : results.counts;
  if (counts && rows.length > 0) {
    return rows.map((option, i) => t("results.optionSummary", { option, count: counts[i] ?? 0 })).join(", ");
  }
  return t("results.summary", { answered: results.total ?? 0 });
}
