import type { ComponentChildren } from "preact";
import { LANGUAGES, type Language, language, setLanguage, t } from "../i18n/index.js";

/** The language switch, on every page. */
export function LanguageSwitch() {
  return (
    <label class="language">
      <span>{t("language.label")}</span>{" "}
      <select
        value={language()}
        onChange={(e) => setLanguage((e.currentTarget as HTMLSelectElement).value as Language)}
      >
        {Object.entries(LANGUAGES).map(([code, { name }]) => (
          <option key={code} value={code} lang={code}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Header with the product name and the language switch, then the main landmark. */
export function Page({ children, wide = false }: { children: ComponentChildren; wide?: boolean }) {
  return (
    <>
      <header class="site-header">
        <a class="brand" href="/">
          {t("app.name")}
        </a>
        <LanguageSwitch />
      </header>
      <main id="main" class={wide ? "wide" : undefined}>
        {children}
      </main>
    </>
  );
}

/** "Reconnecting…" and similar states, announced when they appear. */
export function StatusBanner({ text }: { text: string | undefined }) {
  return (
    <div class="status-banner" role="status">
      {text && <p>{text}</p>}
    </div>
  );
}

export function ErrorText({ text }: { text: string | undefined }) {
  return (
    <div role="alert" class="error">
      {text}
    </div>
  );
}
