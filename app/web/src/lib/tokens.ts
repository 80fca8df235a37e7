/**
 * Tokens stay in this browser, one per room: the host token of the polls created here (or opened from a presenter
 * link) and the participant token that brings a participant back after a reload. They are only ever sent in an
 * Authorization header or a socket payload, never in a URL the server sees.
 */
type Kind = "host" | "participant";
const key = (kind: Kind, roomCode: string) => `zephyr:${kind}:${roomCode.toUpperCase()}`;
/** Where tokens live when the browser refuses storage (some private modes): as long as this page. */
const memory = new Map<string, string>();

export function readToken(kind: Kind, roomCode: string): string | undefined {
  try {
    return localStorage.getItem(key(kind, roomCode)) ?? memory.get(key(kind, roomCode));
  } catch {
    return memory.get(key(kind, roomCode));
  }
}

/** Keeps the token; false when only this page holds it (storage refused), so a navigation would lose it. */
export function saveToken(kind: Kind, roomCode: string, token: string): boolean {
  memory.set(key(kind, roomCode), token);
  try {
    localStorage.setItem(key(kind, roomCode), token);
    return true;
  } catch {
    return false;
  }
}

export function forgetToken(kind: Kind, roomCode: string): void {
  memory.delete(key(kind, roomCode));
  try {
    localStorage.removeItem(key(kind, roomCode));
  } catch {
    // nothing stored
  }
}

/**
 * A presenter link carries the host token in the fragment (`/p/ROOM#host=…`), which browsers never send to a
 * server: it is moved into storage and removed from the address bar at once.
 */
export function adoptPresenterLink(roomCode: string): void {
  const token = new URLSearchParams(location.hash.slice(1)).get("host");
  if (!token) return;
  saveToken("host", roomCode, token);
  history.replaceState(null, "", location.pathname);
}

export const presenterLink = (roomCode: string, token: string): string =>
  `${location.origin}/p/${roomCode}#host=${encodeURIComponent(token)}`;
