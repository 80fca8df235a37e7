import type { Metrics } from "../../metrics/index.js";
import type { RoomSubscriber } from "../../results/index.js";
import { hostRoomOf, roomOf } from "./contract.js";
import type { IO } from "./io.js";

const POLL_ROOM = "poll:";

/**
 * Delivers the results module's room updates to this instance's members of each room. An update that only
 * moves the online count goes to the host screens alone: sent to everyone, a crowd arriving at once would cost
 * one message per member per presence sync, quadratic in the crowd; participants get the count with the next
 * results change, their join ack and GET results.
 */
export function roomFeed(io: IO, metrics: Metrics): RoomSubscriber {
  const rooms = () => io.of("/").adapter.rooms;
  return {
    update({ pollId, ...live }, oldestVoteAt, resultsChanged) {
      const room = resultsChanged ? roomOf(pollId) : hostRoomOf(pollId);
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
      if (status === "deleted") io.local.in(room).socketsLeave([room, hostRoomOf(pollId)]);
    },
    *watched() {
      for (const room of rooms().keys()) if (room.startsWith(POLL_ROOM)) yield room.slice(POLL_ROOM.length);
    },
  };
}
