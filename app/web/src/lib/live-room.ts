import { useEffect, useRef, useState } from "preact/hooks";
import { type LiveResults, newerResults, type PollView } from "./model.js";
import { connect, type ZephyrSocket } from "./socket.js";

/** How soon a join that failed for a passing reason (timeout, service busy) is sent again. */
export const JOIN_RETRY_MS = 2000;

interface LiveRoomOptions {
  /** join-poll or host-join, on the first connection and every reconnect; "retry" asks again shortly. */
  join: (socket: ZephyrSocket) => Promise<"retry" | undefined>;
  onDeleted: () => void;
  /** false: no connection (a presenter page without a host token). */
  enabled?: boolean;
}

/**
 * One room as the presenter and audience pages both follow it: one socket to the service, joined again on every
 * reconnect (to whichever instance), the newest results per question, and the poll's status and active question
 * from poll-state. A deleted poll ends the connection, so the page keeps saying why instead of reconnecting.
 */
export function useLiveRoom(roomCode: string, { join, onDeleted, enabled = true }: LiveRoomOptions) {
  const [poll, setPoll] = useState<PollView>();
  const [results, setResults] = useState<Record<number, LiveResults>>({});
  const [connected, setConnected] = useState(true);
  const socket = useRef<ZephyrSocket>();
  // The handlers of the latest render: the socket's listeners are registered once per room.
  const handlers = useRef({ join, onDeleted });
  handlers.current = { join, onDeleted };

  useEffect(() => {
    if (!enabled) return;
    const s = connect();
    socket.current = s;
    const joinRoom = async (): Promise<void> => {
      if ((await handlers.current.join(s)) === "retry")
        setTimeout(() => s.connected && void joinRoom(), JOIN_RETRY_MS);
    };
    s.on("connect", () => {
      setConnected(true);
      void joinRoom();
    });
    s.on("disconnect", () => setConnected(false));
    s.on("vote-update", (update) => setResults((held) => newerResults(held, update)));
    s.on("poll-state", ({ status, activeQuestion }) => {
      if (status === "deleted") {
        handlers.current.onDeleted();
        s.disconnect();
        return;
      }
      setPoll((p) => (p ? { ...p, status, activeQuestion: activeQuestion ?? p.activeQuestion } : p));
    });
    return () => s.disconnect();
  }, [roomCode, enabled]);

  const question = poll?.questions[poll.activeQuestion];
  return {
    socket,
    connected,
    poll,
    setPoll,
    /** Results from an ack (join, host action), kept only when newer than what the room's updates brought. */
    addResults: (update: LiveResults) => setResults((held) => newerResults(held, update)),
    /** The active question and its results. */
    question,
    current: question ? results[question.index] : undefined,
  };
}
