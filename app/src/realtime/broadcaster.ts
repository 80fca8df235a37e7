import type { ResultsSnapshot } from "../votes/writer.js";

export interface Broadcaster {
  /** A snapshot from any source (local commit, another instance, a join, a resync). Older ones are ignored. */
  offer(snapshot: ResultsSnapshot): void;
  /** Highest seq emitted for the poll, or -1. */
  emittedSeq(pollId: string): number;
  close(): void;
}

interface RoomState {
  pending?: ResultsSnapshot;
  oldestPendingVoteAt?: number;
  emittedSeq: number;
  lastEmitAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * Per-room throttle with leading and trailing edges: the first snapshot after a quiet period goes out at once
 * (a lone vote is seen immediately), later ones within `intervalMs` collapse into one trailing message that
 * carries the newest counts. Each member therefore gets at most ~1000/intervalMs messages per second, however
 * fast votes arrive and however many instances produce them. intervalMs = 0 emits every snapshot.
 */
export function createBroadcaster({
  intervalMs,
  emit,
  idleForgetMs = 10 * 60_000,
}: {
  intervalMs: number;
  emit: (snapshot: ResultsSnapshot, oldestVoteAt: number | undefined) => void;
  idleForgetMs?: number;
}): Broadcaster {
  const rooms = new Map<string, RoomState>();

  const flush = (pollId: string) => {
    const st = rooms.get(pollId);
    if (!st) return;
    st.timer = undefined;
    const snap = st.pending;
    if (!snap) return;
    const oldest = st.oldestPendingVoteAt;
    st.pending = undefined;
    st.oldestPendingVoteAt = undefined;
    st.emittedSeq = snap.seq;
    st.lastEmitAt = Date.now();
    emit(snap, oldest);
  };

  // Forget rooms nobody voted in for a while, so memory follows active rooms only.
  const sweeper = setInterval(() => {
    const cutoff = Date.now() - idleForgetMs;
    for (const [id, st] of rooms) if (!st.timer && !st.pending && st.lastEmitAt < cutoff) rooms.delete(id);
  }, 60_000);
  sweeper.unref();

  return {
    offer(snapshot) {
      let st = rooms.get(snapshot.pollId);
      if (!st) {
        st = { emittedSeq: -1, lastEmitAt: 0 };
        rooms.set(snapshot.pollId, st);
      }
      if (snapshot.seq <= Math.max(st.emittedSeq, st.pending?.seq ?? -1)) return;
      st.pending = snapshot;
      if (snapshot.oldestVoteAt !== undefined) {
        st.oldestPendingVoteAt = Math.min(
          st.oldestPendingVoteAt ?? Number.POSITIVE_INFINITY,
          snapshot.oldestVoteAt,
        );
      }
      if (st.timer) return;
      const wait = st.lastEmitAt + intervalMs - Date.now();
      if (intervalMs === 0 || wait <= 0) flush(snapshot.pollId);
      else st.timer = setTimeout(flush, wait, snapshot.pollId);
    },
    emittedSeq(pollId) {
      return rooms.get(pollId)?.emittedSeq ?? -1;
    },
    close() {
      clearInterval(sweeper);
      for (const st of rooms.values()) clearTimeout(st.timer);
      rooms.clear();
    },
  };
}
