import type { Metrics } from "../../metrics/index.js";
import type { RoomSubscriber } from "../../results/index.js";
import { roomOf } from "./contract.js";
import type { IO } from "./io.js";

const POLL_ROOM = "poll:";

/** Delivers the results module's room updates to this instance's members of each room. */
export function roomFeed(io: IO, metrics: Metrics): RoomSubscriber {
  const rooms = () => io.of("/").adapter.rooms;
  return {
    update({ pollId, ...live }, oldestVoteAt) {
      const room = roomOf(pollId);
      const members = rooms().get(room)?.size ?? 0;
      if (members === 0) return;
      io.local.to(room).emit("vote-update", live);
      metrics.broadcastMessages.inc(members);
      if (oldestVoteAt !== undefined)
        metrics.voteBroadcastLatency.observe(Math.max(0, Date.now() - oldestVoteAt) / 1000);
    },
    status({ pollId, roomCode, status }) {
      const room = roomOf(pollId);
      io.local.to(room).emit("poll-state", { roomCode, status });
      if (status === "deleted") io.local.in(room).socketsLeave(room);
    },
    *watched() {
      for (const room of rooms().keys()) if (room.startsWith(POLL_ROOM)) yield room.slice(POLL_ROOM.length);
    },
  };
}
