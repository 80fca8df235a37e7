import { useEffect, useState } from "preact/hooks";
import { LIMITS } from "../../../src/domain/limits.js";
import { ErrorText, Page } from "../components/Chrome.js";
import { type MessageKey, t } from "../i18n/index.js";
import { ApiError, api } from "../lib/api.js";
import { errorMessage } from "../lib/errors.js";
import { presenterLink, saveToken } from "../lib/tokens.js";

const TYPES = ["single", "multiple", "rating", "wordcloud", "open"] as const;
type QuestionType = (typeof TYPES)[number];

interface Draft {
  id: number;
  type: QuestionType;
  text: string;
  options: string[];
  allowVoteChange: boolean;
  maxChoices: number;
  min: 0 | 1;
  max: number;
  labelMin: string;
  labelMax: string;
  maxEntries: number;
  moderation: boolean;
}

let nextId = 1;
const blank = (type: QuestionType = "single"): Draft => ({
  id: nextId++,
  type,
  text: "",
  options: ["", ""],
  allowVoteChange: false,
  maxChoices: 2,
  min: 1,
  max: 5,
  labelMin: "",
  labelMax: "",
  maxEntries: LIMITS.wordEntriesDefault,
  moderation: false,
});

/** The request body of POST /api/polls for the drafts as typed (the service validates and answers any error). */
function definitionOf(title: string, drafts: Draft[]) {
  return {
    ...(title.trim() ? { title: title.trim() } : {}),
    questions: drafts.map((d) => {
      const text = d.text.trim();
      switch (d.type) {
        case "single":
          return {
            type: d.type,
            text,
            options: d.options.map((o) => o.trim()),
            allowVoteChange: d.allowVoteChange,
          };
        case "multiple":
          return {
            type: d.type,
            text,
            options: d.options.map((o) => o.trim()),
            maxChoices: Math.min(Math.max(2, d.maxChoices), d.options.length),
            allowVoteChange: d.allowVoteChange,
          };
        case "rating": {
          const labels = {
            ...(d.labelMin.trim() ? { min: d.labelMin.trim() } : {}),
            ...(d.labelMax.trim() ? { max: d.labelMax.trim() } : {}),
          };
          return {
            type: d.type,
            text,
            min: d.min,
            max: d.max,
            ...(Object.keys(labels).length ? { labels } : {}),
            allowVoteChange: d.allowVoteChange,
          };
        }
        case "wordcloud":
          return { type: d.type, text, maxEntries: d.maxEntries };
        default:
          return { type: d.type, text, moderation: d.moderation ? "approve" : "none" };
      }
    }),
  };
}

export default function CreatePage() {
  const [title, setTitle] = useState("");
  const [drafts, setDrafts] = useState<Draft[]>(() => [blank()]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // A counter with the id, so asking for the same field twice in a row (two removals) still moves the focus.
  const [focus, setFocus] = useState<{ id: string; n: number }>();
  const setFocusId = (id: string) => setFocus((f) => ({ id, n: (f?.n ?? 0) + 1 }));

  useEffect(() => {
    document.title = `${t("create.title")} · ${t("app.name")}`;
  });
  useEffect(() => {
    if (focus) document.getElementById(focus.id)?.focus();
  }, [focus]);

  const update = (id: number, change: Partial<Draft>) =>
    setDrafts((all) => all.map((d) => (d.id === id ? { ...d, ...change } : d)));

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const poll = await api.createPoll(definitionOf(title, drafts));
      // Without storage the token goes along in the fragment, which the browser never sends to the server.
      const kept = saveToken("host", poll.roomCode, poll.hostToken);
      location.assign(kept ? `/p/${poll.roomCode}` : presenterLink(poll.roomCode, poll.hostToken));
    } catch (err) {
      setError(err instanceof ApiError ? errorMessage(err) : t("error.INTERNAL"));
      setBusy(false);
    }
  }

  return (
    <Page>
      <h1>{t("create.title")}</h1>
      <p class="muted">{t("app.tagline")}</p>
      <form onSubmit={submit} class="create">
        <div class="field">
          <label for="poll-title">{t("create.pollTitle")}</label>
          <input
            id="poll-title"
            value={title}
            maxLength={LIMITS.questionMax}
            aria-describedby="poll-title-hint"
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
          <p id="poll-title-hint" class="hint">
            {t("create.pollTitleHint")}
          </p>
        </div>
        {drafts.map((d, i) => (
          <QuestionEditor
            key={d.id}
            draft={d}
            n={i + 1}
            removable={drafts.length > 1}
            onChange={(change) => update(d.id, change)}
            onFocus={setFocusId}
            onRemove={() => {
              setDrafts((all) => all.filter((x) => x.id !== d.id));
              setFocusId("add-question");
            }}
          />
        ))}
        <div class="row">
          <button
            type="button"
            id="add-question"
            class="secondary"
            disabled={drafts.length >= LIMITS.questionsMax}
            onClick={() => {
              const draft = blank();
              setDrafts((all) => [...all, draft]);
              setFocusId(`q${draft.id}-text`);
            }}
          >
            {t("create.addQuestion")}
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t("create.submitting") : t("create.submit")}
          </button>
        </div>
        <ErrorText text={error} />
      </form>
      <p>
        <a href="/join">{t("nav.join")}</a>
      </p>
    </Page>
  );
}

interface EditorProps {
  draft: Draft;
  n: number;
  removable: boolean;
  onChange: (change: Partial<Draft>) => void;
  onFocus: (id: string) => void;
  onRemove: () => void;
}

function QuestionEditor({ draft: d, n, removable, onChange, onFocus, onRemove }: EditorProps) {
  const id = `q${d.id}`;
  const legend = t("create.question", { n });
  const hasOptions = d.type === "single" || d.type === "multiple";
  return (
    <fieldset class="question-editor">
      <legend id={`${id}-legend`}>{legend}</legend>
      <input
        id={`${id}-text`}
        aria-labelledby={`${id}-legend`}
        required
        maxLength={LIMITS.questionMax}
        value={d.text}
        onInput={(e) => onChange({ text: e.currentTarget.value })}
      />
      <div class="field">
        <label for={`${id}-type`}>{t("create.questionType")}</label>
        <select
          id={`${id}-type`}
          value={d.type}
          onChange={(e) => onChange({ type: e.currentTarget.value as QuestionType })}
        >
          {TYPES.map((type) => (
            <option key={type} value={type}>
              {t(`create.type.${type}` as MessageKey)}
            </option>
          ))}
        </select>
      </div>
      {hasOptions && (
        <ol class="options">
          {d.options.map((option, i) => (
            <li key={i} class="option-row">
              <label for={`${id}-o${i}`}>{t("create.option", { n: i + 1 })}</label>
              <input
                id={`${id}-o${i}`}
                required
                maxLength={LIMITS.optionMax}
                value={option}
                onInput={(e) => {
                  const options = [...d.options];
                  options[i] = e.currentTarget.value;
                  onChange({ options });
                }}
              />
              <button
                type="button"
                class="icon"
                disabled={d.options.length <= LIMITS.optionsMin}
                aria-label={`${t("create.removeOption", { n: i + 1 })}`}
                title={t("create.removeOption", { n: i + 1 })}
                onClick={() => {
                  onChange({ options: d.options.filter((_, j) => j !== i) });
                  onFocus(`${id}-add-option`);
                }}
              >
                ×
              </button>
            </li>
          ))}
        </ol>
      )}
      {hasOptions && (
        <button
          type="button"
          id={`${id}-add-option`}
          class="secondary"
          disabled={d.options.length >= LIMITS.optionsMax}
          onClick={() => {
            onChange({ options: [...d.options, ""] });
            onFocus(`${id}-o${d.options.length}`);
          }}
        >
          {t("create.addOption")}
        </button>
      )}
      {d.type === "multiple" && (
        <NumberField
          id={`${id}-max-choices`}
          label={t("create.maxChoices")}
          min={2}
          max={d.options.length}
          value={Math.min(d.maxChoices, d.options.length)}
          onChange={(maxChoices) => onChange({ maxChoices })}
        />
      )}
      {d.type === "rating" && (
        <div class="grid">
          <div class="field">
            <label for={`${id}-min`}>{t("create.ratingMin")}</label>
            <select
              id={`${id}-min`}
              value={String(d.min)}
              onChange={(e) => onChange({ min: Number(e.currentTarget.value) as 0 | 1 })}
            >
              <option value="0">0</option>
              <option value="1">1</option>
            </select>
          </div>
          <NumberField
            id={`${id}-max`}
            label={t("create.ratingMax")}
            min={2}
            max={LIMITS.ratingMaxTop}
            value={d.max}
            onChange={(max) => onChange({ max })}
          />
          <TextField
            id={`${id}-label-min`}
            label={t("create.labelMin")}
            value={d.labelMin}
            onChange={(labelMin) => onChange({ labelMin })}
          />
          <TextField
            id={`${id}-label-max`}
            label={t("create.labelMax")}
            value={d.labelMax}
            onChange={(labelMax) => onChange({ labelMax })}
          />
        </div>
      )}
      {d.type === "wordcloud" && (
        <NumberField
          id={`${id}-entries`}
          label={t("create.maxEntries")}
          min={1}
          max={LIMITS.wordEntriesMax}
          value={d.maxEntries}
          onChange={(maxEntries) => onChange({ maxEntries })}
        />
      )}
      {(hasOptions || d.type === "rating") && (
        <Checkbox
          id={`${id}-change`}
          label={t("create.allowChange")}
          checked={d.allowVoteChange}
          onChange={(allowVoteChange) => onChange({ allowVoteChange })}
        />
      )}
      {d.type === "open" && (
        <Checkbox
          id={`${id}-moderation`}
          label={t("create.moderation")}
          checked={d.moderation}
          onChange={(moderation) => onChange({ moderation })}
        />
      )}
      {removable && (
        <button type="button" class="link danger" onClick={onRemove}>
          {t("create.removeQuestion", { n })}
        </button>
      )}
    </fieldset>
  );
}

function NumberField(p: {
  id: string;
  label: string;
  min: number;
  max: number;
  value: number;
  onChange: (v: number) => void;
}) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        type="number"
        inputMode="numeric"
        required
        min={p.min}
        max={p.max}
        value={p.value}
        onInput={(e) => {
          const v = e.currentTarget.valueAsNumber;
          if (Number.isInteger(v)) p.onChange(v);
        }}
      />
    </div>
  );
}

function TextField(p: { id: string; label: string; value: string; onChange: (v: string) => void }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        maxLength={LIMITS.optionMax}
        value={p.value}
        onInput={(e) => p.onChange(e.currentTarget.value)}
      />
    </div>
  );
}

function Checkbox(p: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <div class="check">
      <input
        id={p.id}
        type="checkbox"
        checked={p.checked}
        onChange={(e) => p.onChange(e.currentTarget.checked)}
      />
      <label for={p.id}>{p.label}</label>
    </div>
  );
}
