import { liveView } from "../../domain/poll.js";
import type { Metrics } from "../../metrics/index.js";
import type { Results, RoomSubscriber } from "../../results/index.js";
import { hostRoomOf, roomOf } from "./contract.js";
import type { IO } from "./io.js";

const POLL_ROOM = "poll:";

/**
 * Delivers the results module's room updates to this instance's members of each room. Host screens get the host
 * view (results even while hidden, answers awaiting approval); participants the room view. An update that only
 * moves the online count goes to the host screens alone: sent to everyone, a crowd arriving at once would cost
 * one message per member per presence sync, quadratic in the crowd; participants get the count with the next
 * results change, their join ack and GET results.
 */
export function roomFeed(io: IO, metrics: Metrics): RoomSubscriber {
  const rooms = () => io.of("/").adapter.rooms;
  const sizeOf = (room: string) => rooms().get(room)?.size ?? 0;
  return {
    update(snapshot, online, oldestVoteAt, resultsChanged) {
      const { pollId } = snapshot;
      const hosts = sizeOf(hostRoomOf(pollId));
      const participants = resultsChanged ? sizeOf(roomOf(pollId)) - hosts : 0;
      if (hosts > 0) io.local.to(hostRoomOf(pollId)).emit("vote-update", liveView(snapshot, online, "host"));
      if (participants > 0)
        io.local
          .to(roomOf(pollId))
          .except(hostRoomOf(pollId))
          .emit("vote-update", liveView(snapshot, online, "room"));
      metrics.broadcastMessages.inc(hosts + participants);
      if (oldestVoteAt !== undefined && hosts + participants > 0)
        metrics.voteBroadcastLatency.observe(Math.max(0, Date.now() - oldestVoteAt) / 1000);
    },
    status({ pollId, roomCode, status, activeQuestion }) {
      const room = roomOf(pollId);
      io.local.to(room).emit("poll-state", {
        roomCode,
        status,
        ...(activeQuestion === undefined ? {} : { activeQuestion }),
      });
      if (status === "deleted") io.local.in(room).socketsLeave([room, hostRoomOf(pollId)]);
    },
    *watched() {
      for (const room of rooms().keys()) if (room.startsWith(POLL_ROOM)) yield room.slice(POLL_ROOM.length);
    },
  };
}

/**
 * Tells the results module which rooms this instance has members of (every member, hosts included, is in the
 * poll room), as Socket.IO creates and deletes them: the relay then carries only those rooms' news here.
 */
export function watchRooms(io: IO, results: Pick<Results, "watch" | "unwatch">): void {
  const adapter = io.of("/").adapter;
  adapter.on("create-room", (room: string) => {
    if (room.startsWith(POLL_ROOM)) results.watch(room.slice(POLL_ROOM.length));
  });
  adapter.on("delete-room", (room: string) => {
    if (room.startsWith(POLL_ROOM)) results.unwatch(room.slice(POLL_ROOM.length));
  });
}
