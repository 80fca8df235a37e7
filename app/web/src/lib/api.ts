import type { PollView } from "../../../src/domain/poll.js";

/** A failure the pages show: the service's stable error code and message, or NETWORK / TIMEOUT of our own. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type CreatedPoll = PollView & { hostToken: string };

/** The public HTTP API (docs/http-api.md), same origin; a host token only ever travels in the Authorization header. */
async function call<T>(
  method: string,
  path: string,
  { body, token }: { body?: unknown; token?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError("NETWORK", "network error");
  }
  if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
  const error = await res.json().then(
    (b: { error?: { code?: string; message?: string } }) => b.error,
    () => undefined,
  );
  throw new ApiError(error?.code ?? "INTERNAL", error?.message ?? res.statusText);
}

const room = (roomCode: string) => `/api/polls/${encodeURIComponent(roomCode)}`;

export const api = {
  createPoll: (definition: unknown) => call<CreatedPoll>("POST", "/api/polls", { body: definition }),
  poll: (roomCode: string) => call<PollView>("GET", room(roomCode)),
  close: (roomCode: string, token: string) => call<PollView>("POST", `${room(roomCode)}/close`, { token }),
  reopen: (roomCode: string, token: string) => call<PollView>("POST", `${room(roomCode)}/reopen`, { token }),
  /** The CSV as a Blob: the export needs the host token in a header, so it cannot be a plain link. */
  async exportCsv(roomCode: string, token: string): Promise<Blob> {
    let res: Response;
    try {
      res = await fetch(`${room(roomCode)}/export.csv`, { headers: { Authorization: `Bearer ${token}` } });
    } catch {
      throw new ApiError("NETWORK", "network error");
    }
    if (!res.ok) throw new ApiError(res.status === 403 ? "FORBIDDEN" : "INTERNAL", res.statusText);
    return res.blob();
  },
};
