import type { LiveResults, ResultsSnapshot } from "../domain/poll.js";

export type RoomUpdate = LiveResults & { pollId: string };

export interface Broadcaster {
  /** A snapshot from any source (local commit, another instance, a join, a resync). Older ones are ignored. */
  offer(snapshot: ResultsSnapshot): void;
  /** The room's connected-participant count changed; goes out with the newest known snapshot. */
  setOnline(pollId: string, online: number): void;
  close(): void;
}

interface RoomState {
  latest?: ResultsSnapshot;
  online: number;
  oldestPendingVoteAt?: number;
  emittedSeq: number;
  emittedOnline: number;
  lastEmitAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * Per-room throttle with leading and trailing edges: the first change after a quiet period goes out at once
 * (a lone vote is seen immediately), later ones within `intervalMs` collapse into one trailing message that
 * carries the newest counts and online figure. Each member therefore gets at most ~1000/intervalMs messages per
 * second, however fast votes arrive and however many instances produce them. intervalMs = 0 emits every change.
 */
export function createBroadcaster({
  intervalMs,
  emit,
  idleForgetMs = 10 * 60_000,
}: {
  intervalMs: number;
  /** resultsChanged is false when only the online count moved since the room's last update. */
  emit: (update: RoomUpdate, oldestVoteAt: number | undefined, resultsChanged: boolean) => void;
  idleForgetMs?: number;
}): Broadcaster {
  const rooms = new Map<string, RoomState>();
  const stateOf = (pollId: string) => {
    let st = rooms.get(pollId);
    if (!st) {
      st = { online: 0, emittedSeq: -1, emittedOnline: 0, lastEmitAt: 0 };
      rooms.set(pollId, st);
    }
    return st;
  };
  const changed = (st: RoomState) =>
    st.latest !== undefined && (st.latest.seq > st.emittedSeq || st.online !== st.emittedOnline);

  const flush = (pollId: string) => {
    const st = rooms.get(pollId);
    if (!st) return;
    st.timer = undefined;
    const snap = st.latest;
    if (!snap || !changed(st)) return;
    const oldest = st.oldestPendingVoteAt;
    const resultsChanged = snap.seq > st.emittedSeq;
    st.oldestPendingVoteAt = undefined;
    st.emittedSeq = snap.seq;
    st.emittedOnline = st.online;
    st.lastEmitAt = Date.now();
    const { pollId: id, roomCode, counts, total, participants, seq } = snap;
    emit(
      { pollId: id, roomCode, counts, total, participants, online: st.online, seq },
      oldest,
      resultsChanged,
    );
  };

  const schedule = (pollId: string, st: RoomState) => {
    if (st.timer || !changed(st)) return;
    const wait = st.lastEmitAt + intervalMs - Date.now();
    if (intervalMs === 0 || wait <= 0) flush(pollId);
    else st.timer = setTimeout(flush, wait, pollId);
  };

  // Forget rooms nobody voted in for a while, so memory follows active rooms only.
  const sweeper = setInterval(() => {
    const cutoff = Date.now() - idleForgetMs;
    for (const [id, st] of rooms) if (!st.timer && !changed(st) && st.lastEmitAt < cutoff) rooms.delete(id);
  }, 60_000);
  sweeper.unref();

  return {
    offer(snapshot) {
      const st = stateOf(snapshot.pollId);
      if (snapshot.seq <= Math.max(st.emittedSeq, st.latest?.seq ?? -1)) return;
      st.latest = snapshot;
      if (snapshot.oldestVoteAt !== undefined) {
        st.oldestPendingVoteAt = Math.min(
          st.oldestPendingVoteAt ?? Number.POSITIVE_INFINITY,
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
