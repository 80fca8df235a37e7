import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import QRCode from "qrcode";
import { ErrorText, LanguageSwitch, StatusBanner } from "../components/Chrome.js";
import { Results, ResultsAnnouncer } from "../components/Results.js";
import { t } from "../i18n/index.js";
import { ApiError, api } from "../lib/api.js";
import { errorMessage } from "../lib/errors.js";
import { useLiveRoom } from "../lib/live-room.js";
import type { LiveResults, PollView } from "../lib/model.js";
import { request, type ZephyrSocket } from "../lib/socket.js";
import { adoptPresenterLink, presenterLink, readToken } from "../lib/tokens.js";

type Phase = "loading" | "ready" | "noToken" | "notFound" | "deleted";
type Ack = { ok: true; data: unknown } | { ok: false; error: { code: string; message: string } };

/**
 * /p/ROOM on a projector: how to join (address, room code, QR code) always in view, the active question's live
 * results, and the presenter's controls. Host actions go over the host screen's socket (HTTP for close, reopen and
 * export, which have no socket event); the host token comes from this browser's storage, or a presenter link.
 */
export default function PresenterPage({ roomCode }: { roomCode: string }) {
  const token = useMemo(() => {
    adoptPresenterLink(roomCode);
    return readToken("host", roomCode);
  }, [roomCode]);
  const [phase, setPhase] = useState<Phase>(token ? "loading" : "noToken");
  const [error, setError] = useState<string>();
  const busyRef = useRef(false);

  useEffect(() => {
    document.title = `${roomCode} · ${t("app.name")}`;
  });

  // Every (re)connect joins the host room again; only then do this screen's vote-updates flow.
  async function hostJoin(socket: ZephyrSocket): Promise<"retry" | undefined> {
    const res = await request(socket, "host-join", { roomCode, hostToken: token as string });
    if (res.ok) {
      room.setPoll(res.data.poll);
      room.addResults(res.data.results);
      setError(undefined);
      setPhase((p) => (p === "deleted" ? p : "ready"));
    } else if (res.error.code === "POLL_NOT_FOUND") setPhase((p) => (p === "deleted" ? p : "notFound"));
    else if (res.error.code === "FORBIDDEN" || res.error.code === "UNAUTHORIZED") setPhase("noToken");
    else {
      setError(errorMessage(res.error));
      return "retry";
    }
  }

  const room = useLiveRoom(roomCode, {
    join: hostJoin,
    onDeleted: () => setPhase("deleted"),
    enabled: token !== undefined,
  });
  const { poll, question, current, connected } = room;

  /**
   * Runs one host action, showing its error; the screen itself follows the events every host screen gets.
   * Buttons stay enabled while an action runs (a disabled button would drop the keyboard focus); a second press
   * meanwhile is ignored.
   */
  async function act(action: () => Promise<Ack>, apply: (data: never) => void = () => {}) {
    if (busyRef.current) return;
    busyRef.current = true;
    setError(undefined);
    try {
      const res = await action();
      if (res.ok) apply(res.data as never);
      else setError(errorMessage(res.error));
    } finally {
      busyRef.current = false;
    }
  }

  const http = async (call: () => Promise<unknown>): Promise<Ack> => {
    try {
      return { ok: true, data: await call() };
    } catch (err) {
      return { ok: false, error: err instanceof ApiError ? err : { code: "INTERNAL", message: String(err) } };
    }
  };

  if (phase !== "ready" || !poll || !question || !token) {
    return (
      <main id="main" class="presenter-message">
        <StatusBanner text={connected ? undefined : t("status.reconnecting")} />
        <h1>{roomCode}</h1>
        {phase === "loading" && <p>{t("status.loading")}</p>}
        {phase === "noToken" && (
          <p>
            {t("presenter.noToken", { room: roomCode })}{" "}
            <a href={`/j/${roomCode}`}>{t("presenter.openAudience")}</a>
          </p>
        )}
        {phase === "notFound" && <p>{t("audience.notFound", { room: roomCode })}</p>}
        {phase === "deleted" && <p>{t("presenter.deleted")}</p>}
        <ErrorText text={error} />
      </main>
    );
  }

  const socket = room.socket.current as ZephyrSocket;
  const q = { hostToken: token, questionIndex: question.index };
  const applyPollAndResults = (data: { poll: PollView; results: LiveResults }) => {
    room.setPoll(data.poll);
    room.addResults(data.results);
  };
  const applyResults = room.addResults;
  const applyModeration = (data: { results: LiveResults }) => applyResults(data.results);
  const applyStatus = (p: PollView) => room.setPoll((held) => (held ? { ...held, status: p.status } : held));
  const hidden = current?.hidden ?? false;
  const closed = poll.status === "closed";

  return (
    <div class="presenter">
      <StatusBanner text={connected ? undefined : t("status.reconnecting")} />
      <main id="main" class="stage">
        {poll.title && <p class="poll-title">{poll.title}</p>}
        <p class="muted">
          {t("presenter.questionOf", { n: question.index + 1, count: poll.questions.length })}
        </p>
        <h1 class="question-text">{question.text}</h1>
        {closed && <p class="notice">{t("presenter.closed")}</p>}
        {hidden && <p class="notice">{t("presenter.hiddenNote")}</p>}
        <Results question={question} results={current} />
        {question.type === "open" && current && (
          <Moderation
            results={current}
            moderated={question.moderation === "approve"}
            onApprove={(answerId) =>
              act(() => request(socket, "host-approve-answer", { ...q, answerId }), applyModeration)
            }
            onRemove={(answerId) =>
              act(() => request(socket, "host-remove-answer", { ...q, answerId }), applyModeration)
            }
          />
        )}
        <ErrorText text={error} />
      </main>
      <aside class="join-panel" aria-label={t("presenter.joinAt")}>
        <JoinInfo roomCode={roomCode} />
        <p class="counts">
          {t("presenter.participants", { joined: current?.participants ?? 0, online: current?.online ?? 0 })}
        </p>
        <LanguageSwitch />
      </aside>
      <nav class="controls" aria-label={t("presenter.controls")}>
        <button
          type="button"
          disabled={question.index === 0}
          onClick={() =>
            act(
              () => request(socket, "host-activate", { ...q, questionIndex: question.index - 1 }),
              applyPollAndResults,
            )
          }
        >
          {t("presenter.previous")}
        </button>
        <button
          type="button"
          disabled={question.index >= poll.questions.length - 1}
          onClick={() =>
            act(
              () => request(socket, "host-activate", { ...q, questionIndex: question.index + 1 }),
              applyPollAndResults,
            )
          }
        >
          {t("presenter.next")}
        </button>
        <button
          type="button"
          onClick={() =>
            act(() => request(socket, hidden ? "host-reveal-results" : "host-hide-results", q), applyResults)
          }
        >
          {hidden ? t("presenter.show") : t("presenter.hide")}
        </button>
        <button
          type="button"
          onClick={() =>
            act(
              () => http(() => (closed ? api.reopen(roomCode, token) : api.close(roomCode, token))),
              applyStatus,
            )
          }
        >
          {closed ? t("presenter.reopen") : t("presenter.close")}
        </button>
        <button type="button" onClick={() => act(() => http(() => download(roomCode, token)))}>
          {t("presenter.export")}
        </button>
        <FullScreenButton />
        <CopyLink roomCode={roomCode} token={token} />
      </nav>
      <ResultsAnnouncer question={question} results={current} />
    </div>
  );
}

async function download(roomCode: string, token: string): Promise<void> {
  const blob = await api.exportCsv(roomCode, token);
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `zephyr-${roomCode}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function JoinInfo({ roomCode }: { roomCode: string }) {
  const url = `${location.origin}/j/${roomCode}`;
  const [qr, setQr] = useState<string>();
  useEffect(() => {
    // Dark on light whatever the theme: that is what phone cameras read best.
    QRCode.toString(url, { type: "svg", margin: 2, errorCorrectionLevel: "M" }).then(
      (svg) => setQr(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
      () => setQr(undefined),
    );
  }, [url]);
  return (
    <div class="join-info">
      <p class="join-label">{t("presenter.joinAt")}</p>
      <p class="join-url">
        {location.host}/j/{roomCode}
      </p>
      <p class="join-label">{t("presenter.roomCode")}</p>
      <p class="room-code">{roomCode}</p>
      {qr && <img class="qr" src={qr} alt={t("presenter.qr")} width={240} height={240} />}
    </div>
  );
}

function Moderation(p: {
  results: LiveResults;
  moderated: boolean;
  onApprove: (id: string) => void;
  onRemove: (id: string) => void;
}) {
  const pending = p.results.pending ?? [];
  const shown = p.results.answers ?? [];
  const item = (a: NonNullable<LiveResults["answers"]>[number], waiting: boolean) => (
    <li key={a.id} class={waiting ? "pending" : "shown"}>
      <span id={`answer-${a.id}`} class="answer-text">
        {a.text}
      </span>{" "}
      <span class="by">{t("results.by", { nickname: a.nickname })}</span>
      {waiting && (
        <button type="button" aria-describedby={`answer-${a.id}`} onClick={() => p.onApprove(a.id)}>
          {t("presenter.approve")}
        </button>
      )}
      <button
        type="button"
        class="danger"
        aria-describedby={`answer-${a.id}`}
        onClick={() => p.onRemove(a.id)}
      >
        {t("presenter.remove")}
      </button>
    </li>
  );
  return (
    <div class="moderation">
      {p.moderated && (
        <section aria-labelledby="pending-heading">
          <h2 id="pending-heading">{t("presenter.pending")}</h2>
          {pending.length === 0 && <p class="muted">{t("presenter.noPending")}</p>}
          <ul class="moderation-list">{pending.map((a) => item(a, true))}</ul>
        </section>
      )}
      {shown.length > 0 && (
        <section aria-labelledby="shown-heading">
          <h2 id="shown-heading">{t("presenter.shown")}</h2>
          <ul class="moderation-list">{shown.map((a) => item(a, false))}</ul>
        </section>
      )}
    </div>
  );
}

function FullScreenButton() {
  const [full, setFull] = useState(Boolean(document.fullscreenElement));
  useEffect(() => {
    const onChange = () => setFull(Boolean(document.fullscreenElement));
    document.addEventListener("fullscreenchange", onChange);
    return () => document.removeEventListener("fullscreenchange", onChange);
  }, []);
  if (!document.fullscreenEnabled) return null;
  return (
    <button
      type="button"
      onClick={() =>
        (full ? document.exitFullscreen() : document.documentElement.requestFullscreen()).catch(
          () => undefined,
        )
      }
    >
      {full ? t("presenter.exitFullscreen") : t("presenter.fullscreen")}
    </button>
  );
}

/**
 * The presenter link holds the host token in its fragment: copied to the clipboard, never shown on the projector.
 * Where the clipboard is refused (plain http other than localhost), the link waits behind a disclosure the
 * presenter opens on purpose, outside any live region, so it is neither projected nor read out by itself.
 */
function CopyLink({ roomCode, token }: { roomCode: string; token: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const link = presenterLink(roomCode, token);
  return (
    <>
      <button
        type="button"
        onClick={() =>
          (navigator.clipboard?.writeText(link) ?? Promise.reject(new Error("no clipboard"))).then(
            () => setState("copied"),
            () => setState("failed"),
          )
        }
      >
        {t("presenter.copyLink")}
      </button>
      <span role="status" class="copy-status">
        {state === "copied" && t("presenter.copied")}
        {state === "failed" && t("presenter.copyFailed")}
      </span>
      {state === "failed" && (
        <details class="copy-fallback">
          <summary>{t("presenter.link")}</summary>
          <input
            readOnly
            aria-label={t("presenter.link")}
            value={link}
            onFocus={(e) => e.currentTarget.select()}
          />
        </details>
      )}
    </>
  );
}
