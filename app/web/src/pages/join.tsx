import { useEffect, useState } from "preact/hooks";
import { ErrorText, Page } from "../components/Chrome.js";
import { t } from "../i18n/index.js";

// The service's room code alphabet (no 0/O, 1/I/L), matched case-insensitively.
const ROOM_CODE = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$/;

/** /join: a room code typed from the presenter's screen, for those who cannot scan the QR code. */
export default function JoinPage() {
  const [code, setCode] = useState("");
  const [error, setError] = useState<string>();
  useEffect(() => {
    document.title = `${t("join.title")} · ${t("app.name")}`;
  });
  return (
    <Page>
      <h1>{t("join.title")}</h1>
      <form
        class="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const room = code.replace(/[\s-]/g, "").toUpperCase();
          if (!ROOM_CODE.test(room)) return setError(t("join.invalidCode"));
          location.assign(`/j/${room}`);
        }}
      >
        <div class="field">
          <label for="room-code">{t("join.roomCode")}</label>
          <input
            id="room-code"
            class="code-input"
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            maxLength={8}
            aria-describedby="room-code-hint"
            aria-invalid={error ? "true" : undefined}
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          <p id="room-code-hint" class="hint">
            {t("join.roomCodeHint")}
          </p>
        </div>
        <button type="submit" class="primary">
          {t("join.go")}
        </button>
        <ErrorText text={error} />
      </form>
    </Page>
  );
}
