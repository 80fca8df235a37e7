import type { ResultsSnapshot } from "../domain/poll.js";

export interface Broadcaster {
  /**
   * A snapshot from any source (local commit, another instance, a join, a resync). Older ones are ignored; one of
   * the same version with more participants (a join) goes to host screens like an online change.
   */
  offer(snapshot: ResultsSnapshot): void;
  /** The room's connected-participant count changed; goes out with the newest known snapshot. */
  setOnline(pollId: string, online: number): void;
  close(): void;
}

/** What goes out to a room: one question's newest snapshot and the room's online count. */
export type EmitRoomUpdate = (
  snapshot: ResultsSnapshot,
  online: number,
  oldestVoteAt: number | undefined,
  /** false when only the online count moved since the room's last update. */
  resultsChanged: boolean,
) => void;

interface QuestionState {
  latest: ResultsSnapshot;
  emittedSeq: number;
  oldestPendingVoteAt?: number;
}

interface RoomState {
  /** By question: each question's last update is delivered, even when the next question's follows at once. */
  questions: Map<number, QuestionState>;
  /** The question of the newest snapshot: online-only updates go out with it. */
  current?: QuestionState;
  online: number;
  emittedOnline: number;
  /** Joins add participants without a new results version: they go out like an online change. */
  emittedParticipants: number;
  lastEmitAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * Per-room throttle with leading and trailing edges: the first change after a quiet period goes out at once
 * (a lone vote is seen immediately), later ones within `intervalMs` collapse into one trailing message per
 * changed question that carries its newest results and the online figure. Each member therefore gets at most
 * ~1000/intervalMs messages per second per question that changed (one, unless the host just moved on), however
 * fast answers arrive and however many instances produce them. intervalMs = 0 emits every change.
 */
export function createBroadcaster({
  intervalMs,
  emit,
  idleForgetMs = 10 * 60_000,
}: {
  intervalMs: number;
  emit: EmitRoomUpdate;
  idleForgetMs?: number;
}): Broadcaster {
  const rooms = new Map<string, RoomState>();
  const stateOf = (pollId: string) => {
    let st = rooms.get(pollId);
    if (!st) {
      st = { questions: new Map(), online: 0, emittedOnline: 0, emittedParticipants: 0, lastEmitAt: 0 };
      rooms.set(pollId, st);
    }
    return st;
  };
  const unsent = (q: QuestionState) => q.latest.seq > q.emittedSeq;
  const changed = (st: RoomState) =>
    st.current !== undefined &&
    (st.online !== st.emittedOnline ||
      st.current.latest.participants > st.emittedParticipants ||
      [...st.questions.values()].some(unsent));

  const flush = (pollId: string) => {
    const st = rooms.get(pollId);
    if (!st) return;
    st.timer = undefined;
    if (!changed(st)) return;
    const due = [...st.questions.values()].filter(unsent).sort((a, b) => a.latest.seq - b.latest.seq);
    st.emittedOnline = st.online;
    st.emittedParticipants = Math.max(st.emittedParticipants, st.current?.latest.participants ?? 0);
    st.lastEmitAt = Date.now();
    if (due.length === 0 && st.current) {
      emit(st.current.latest, st.online, undefined, false);
      return;
    }
    for (const q of due) {
      const oldest = q.oldestPendingVoteAt;
      q.oldestPendingVoteAt = undefined;
      q.emittedSeq = q.latest.seq;
      emit(q.latest, st.online, oldest, true);
    }
  };

  const schedule = (pollId: string, st: RoomState) => {
    if (st.timer || !changed(st)) return;
    const wait = st.lastEmitAt + intervalMs - Date.now();
    if (intervalMs === 0 || wait <= 0) flush(pollId);
    else st.timer = setTimeout(flush, wait, pollId);
  };

  // Forget rooms nobody answered in for a while, so memory follows active rooms only.
  const sweeper = setInterval(() => {
    const cutoff = Date.now() - idleForgetMs;
    for (const [id, st] of rooms) if (!st.timer && !changed(st) && st.lastEmitAt < cutoff) rooms.delete(id);
  }, 60_000);
  sweeper.unref();

  return {
    offer(snapshot) {
      const st = stateOf(snapshot.pollId);
      let q = st.questions.get(snapshot.questionIndex);
      if (
        q &&
        (snapshot.seq < q.latest.seq ||
          (snapshot.seq === q.latest.seq && snapshot.participants <= q.latest.participants))
      )
        return;
      if (q) q.latest = snapshot;
      else {
        q = { latest: snapshot, emittedSeq: -1 };
        st.questions.set(snapshot.questionIndex, q);
      }
      if (!st.current || snapshot.seq >= st.current.latest.seq) st.current = q;
      if (snapshot.oldestVoteAt !== undefined) {
        q.oldestPendingVoteAt = Math.min(
          q.oldestPendingVoteAt ?? Number.POSITIVE_INFINITY,
          snapshot.oldestVoteAt,
        );
      }
      schedule(snapshot.pollId, st);
    },
    setOnline(pollId, online) {
      const st = stateOf(pollId);
      if (st.online === online) return;
      st.online = online;
      schedule(pollId, st);
    },
    close() {
      clearInterval(sweeper);
      for (const st of rooms.values()) clearTimeout(st.timer);
      rooms.clear();
    },
  };
}
