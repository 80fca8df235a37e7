import { z } from "zod";
import { validate } from "../../domain/schemas.js";
import type { Presence } from "../../presence/index.js";
import { asObject } from "../../usecases/caller.js";
import type { Caller, UseCases } from "../../usecases/index.js";
import { hostRoomOf, roomOf } from "./contract.js";
import type { createDispatch } from "./dispatch.js";
import type { ZSocket } from "./io.js";

const leaveSchema = z.union([z.object({}).strict(), z.undefined()]);

/**
 * The client events, each translated to a use case. What only a connection has (its room membership,
 * its session after join-poll, its presence) is kept here; everything else is the use cases'.
 */
export function registerHandlers({
  socket,
  on,
  useCases,
  presence,
}: {
  socket: ZSocket;
  on: ReturnType<typeof createDispatch>;
  useCases: UseCases;
  presence: Presence;
}) {
  const caller = (): Caller => {
    const { pollId, roomCode, participantId, ip } = socket.data;
    return {
      transport: "socket",
      address: ip,
      session: pollId && roomCode && participantId ? { pollId, roomCode, participantId } : null,
    };
  };

  /** Leaves the current room (and its presence), keeping only the connection's address. */
  const leaveRoom = async () => {
    const { pollId, participantId, role } = socket.data;
    if (pollId) {
      await socket.leave(roomOf(pollId));
      if (role === "host") await socket.leave(hostRoomOf(pollId));
      presence.disconnected(pollId, role === "participant" ? participantId : undefined);
    }
    socket.data = { ip: socket.data.ip };
    return Boolean(pollId);
  };

  const enterRoom = async (pollId: string, participantId?: string) => {
    await leaveRoom();
    await socket.join(roomOf(pollId));
    presence.connected(pollId, participantId);
  };

  on(socket, "join-poll", async (payload) => {
    const joined = await useCases.join(caller(), asObject(payload));
    await enterRoom(joined.poll.id, joined.participantId);
    socket.data = {
      ip: socket.data.ip,
      pollId: joined.poll.id,
      roomCode: joined.poll.roomCode,
      participantId: joined.participantId,
      nickname: joined.nickname,
      role: "participant",
      voteIndex: joined.yourVote,
      joinedAt: Date.now(),
      lastSeen: Date.now(),
    };
    const { created: _created, ...ack } = joined;
    return ack;
  });

  on(socket, "submit-vote", async (payload) => {
    const { receipt } = await useCases.vote(caller(), asObject(payload));
    if ("optionIndex" in receipt && !("questionIndex" in receipt))
      socket.data.voteIndex = receipt.optionIndex;
    return receipt;
  });

  on(
    socket,
    "leave-poll",
    async (payload) => {
      validate(leaveSchema, payload);
      return { left: await leaveRoom() };
    },
    { ackRequired: false },
  );

  on(socket, "host-join", async (payload) => {
    const view = await useCases.host.view(caller(), asObject(payload));
    await enterRoom(view.poll.id);
    await socket.join(hostRoomOf(view.poll.id));
    socket.data = { ip: socket.data.ip, pollId: view.poll.id, roomCode: view.poll.roomCode, role: "host" };
    return view;
  });

  /** Host events name the room of this host screen unless they say otherwise; the token is checked every time. */
  const hostInput = (payload: unknown) => ({ roomCode: socket.data.roomCode, ...asObject(payload) });

  on(socket, "host-activate", async (payload) => useCases.host.activate(caller(), hostInput(payload)));
  on(socket, "host-hide-results", async (payload) =>
    useCases.host.setResultsHidden(caller(), hostInput(payload), true),
  );
  on(socket, "host-reveal-results", async (payload) =>
    useCases.host.setResultsHidden(caller(), hostInput(payload), false),
  );
  on(socket, "host-approve-answer", async (payload) =>
    useCases.host.moderate(caller(), hostInput(payload), "approve"),
  );
  on(socket, "host-remove-answer", async (payload) =>
    useCases.host.moderate(caller(), hostInput(payload), "remove"),
  );

  socket.on("disconnect", () => {
    const { pollId, participantId, role } = socket.data;
    if (pollId) presence.disconnected(pollId, role === "participant" ? participantId : undefined);
  });
}
