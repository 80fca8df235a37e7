import type { ErrorBody } from "../../domain/errors.js";
import type { LiveResults, RoomStatus } from "../../domain/poll.js";
import type { HostInput, JoinInput, VoteInput } from "../../domain/schemas.js";
import type { AnswerReceipt } from "../../usecases/cast-vote.js";
import type { HostActions } from "../../usecases/host-actions.js";
import type { Joined } from "../../usecases/join-poll.js";

export type { LiveResults } from "../../domain/poll.js";

/**
 * The Socket.IO event contract, the one place client and server agree on (docs/realtime-api.md).
 * Every client event carries one payload object and an ack callback; acks are Ack<T>.
 */

export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type AckFn<T> = (response: Ack<T>) => void;

/** What the join use case answers, but whether it created the participant (the socket needs no 201/200). */
export type JoinPollData = Omit<Joined, "created">;
export type HostJoinData = Awaited<ReturnType<HostActions["view"]>>;

/** A host event on one question of the host screen's room (roomCode defaults to it); hostToken every time. */
export type HostQuestionInput = { roomCode?: string; hostToken: string; questionIndex: number };
export type HostAnswerInput = HostQuestionInput & { answerId: string };
type Data<K extends keyof HostActions> = Awaited<ReturnType<HostActions[K]>>;

export interface ClientToServerEvents {
  "join-poll": (payload: JoinInput, ack: AckFn<JoinPollData>) => void;
  /** Any question type: optionIndex | optionIndexes | value | entries | text, questionIndex defaulting to the active one. */
  "submit-vote": (payload: Omit<VoteInput, "roomCode">, ack: AckFn<AnswerReceipt>) => void;
  "leave-poll": (payload: Record<string, never> | undefined, ack?: AckFn<{ left: boolean }>) => void;
  "host-join": (payload: HostInput, ack: AckFn<HostJoinData>) => void;
  "host-activate": (payload: HostQuestionInput, ack: AckFn<Data<"activate">>) => void;
  "host-hide-results": (payload: HostQuestionInput, ack: AckFn<Data<"setResultsHidden">>) => void;
  "host-reveal-results": (payload: HostQuestionInput, ack: AckFn<Data<"setResultsHidden">>) => void;
  "host-approve-answer": (payload: HostAnswerInput, ack: AckFn<Data<"moderate">>) => void;
  "host-remove-answer": (payload: HostAnswerInput, ack: AckFn<Data<"moderate">>) => void;
}

export interface ServerToClientEvents {
  "vote-update": (update: LiveResults) => void;
  /** The room's status changed, or the presenter moved to another question (activeQuestion). */
  "poll-state": (state: { roomCode: string; status: RoomStatus; activeQuestion?: number }) => void;
}

/** Instances talk through the results relay, not through Socket.IO. */
export type InterServerEvents = Record<string, never>;

/**
 * Per-connection state, readable from any instance with io.fetchSockets() when troubleshooting: the fields
 * the seed kept in a Redis hash per participant (where it was never read), kept where they are true.
 */
export interface SocketData {
  ip: string;
  pollId?: string;
  roomCode?: string;
  participantId?: string;
  nickname?: string;
  role?: "participant" | "host";
  /** The participant's current vote, as last acknowledged on this connection. */
  voteIndex?: number | null;
  joinedAt?: number;
  lastSeen?: number;
}

export const roomOf = (pollId: string) => `poll:${pollId}`;
/** The poll's host screens: they also get updates that only change the online count. */
export const hostRoomOf = (pollId: string) => `hosts:${pollId}`;
