import "./app.css";
import { type ComponentType, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onLanguageChange, t } from "./i18n/index.js";

type PageModule = { default: ComponentType<{ roomCode: string }> };

/**
 * The four pages, each its own chunk: a phone that opens /j/ROOM loads the audience page and socket.io-client,
 * never the create form or the QR code library. Any other path is the not-found page (the service answers it 404).
 */
const ROUTES: Array<[RegExp, () => Promise<PageModule>]> = [
  [/^\/$/, () => import("./pages/create.js")],
  [/^\/join\/?$/, () => import("./pages/join.js")],
  [/^\/p\/([A-Za-z0-9]{6})\/?$/, () => import("./pages/presenter.js")],
  [/^\/j\/([A-Za-z0-9]{6})\/?$/, () => import("./pages/audience.js")],
];

function App() {
  const [, rerender] = useState(0);
  const [page, setPage] = useState<{ Page: PageModule["default"]; roomCode: string } | null | undefined>();
  useEffect(() => onLanguageChange(() => rerender((n) => n + 1)), []);
  useEffect(() => {
    const match = ROUTES.map(([re, load]) => [re.exec(location.pathname), load] as const).find(([m]) => m);
    if (!match) return setPage(null);
    const [m, load] = match;
    load().then(
      (mod) => setPage({ Page: mod.default, roomCode: (m?.[1] ?? "").toUpperCase() }),
      // A chunk that no longer loads (offline, or a release replaced it): say so instead of a blank page.
      () => setPage({ Page: Unreachable, roomCode: "" }),
    );
  }, []);
  useEffect(() => {
    if (page === null) document.title = `${t("notFound.title")} · ${t("app.name")}`;
  });
  if (page === undefined) return null;
  if (page === null) return <NotFound />;
  return <page.Page roomCode={page.roomCode} />;
}

function Unreachable() {
  return (
    <main id="main">
      <h1>{t("app.name")}</h1>
      <p role="alert">{t("error.network")}</p>
    </main>
  );
}

function NotFound() {
  return (
    <main id="main">
      <h1>{t("notFound.title")}</h1>
      <p>{t("notFound.text")}</p>
      <p>
        <a href="/">{t("notFound.home")}</a> · <a href="/join">{t("nav.join")}</a>
      </p>
    </main>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
