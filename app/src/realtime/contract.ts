import { z } from "zod";
import type { ErrorBody } from "../errors/index.js";
import { nicknameSchema } from "../polls/schemas.js";
import type { PollView } from "../polls/service.js";
import type { ResultsSnapshot } from "../votes/writer.js";

/**
 * The Socket.IO event contract, the one place client and server agree on (README "Real-time API").
 * Every client event carries one payload object and an ack callback; acks are Ack<T>.
 */

export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type AckFn<T> = (response: Ack<T>) => void;

export interface LiveResults {
  roomCode: string;
  counts: number[];
  total: number;
  participants: number;
  /** results_version of the poll: strictly increasing per room across all instances. */
  seq: number;
}

export interface JoinPollData {
  participantId: string;
  participantToken: string;
  nickname: string;
  poll: PollView;
  results: LiveResults;
  yourVote: number | null;
}

export interface HostJoinData {
  poll: PollView;
  results: LiveResults;
}

export interface ClientToServerEvents {
  "join-poll": (payload: JoinPollPayload, ack: AckFn<JoinPollData>) => void;
  "submit-vote": (payload: SubmitVotePayload, ack: AckFn<{ optionIndex: number }>) => void;
  "leave-poll": (payload: Record<string, never> | undefined, ack?: AckFn<{ left: boolean }>) => void;
  "host-join": (payload: HostJoinPayload, ack: AckFn<HostJoinData>) => void;
}

export interface ServerToClientEvents {
  "vote-update": (update: LiveResults) => void;
  "poll-state": (state: { roomCode: string; status: "open" | "closed" | "deleted" }) => void;
}

export interface InterServerEvents {
  /** A committed results snapshot, so every instance can update its own members (coalesced). */
  results: (snapshot: ResultsSnapshot) => void;
}

export interface SocketData {
  pollId?: string;
  roomCode?: string;
  participantId?: string;
  role?: "participant" | "host";
  optionCount?: number;
  ip: string;
}

const roomCode = z.string({ error: "roomCode must be a string" }).max(32, "roomCode is too long");
const token = z.string({ error: "token must be a string" }).min(1).max(512);

export const joinPollSchema = z
  .object({ roomCode, nickname: nicknameSchema.optional(), participantToken: token.optional() })
  .strict()
  .refine(
    (p) => p.nickname !== undefined || p.participantToken !== undefined,
    "nickname or participantToken is required",
  );
export const submitVoteSchema = z
  .object({
    optionIndex: z.number({ error: "optionIndex must be a number" }).int("optionIndex must be an integer"),
  })
  .strict();
export const hostJoinSchema = z.object({ roomCode, hostToken: token }).strict();
export const leavePollSchema = z.union([z.object({}).strict(), z.undefined()]);

export type JoinPollPayload = z.input<typeof joinPollSchema>;
export type SubmitVotePayload = z.input<typeof submitVoteSchema>;
export type HostJoinPayload = z.input<typeof hostJoinSchema>;

export const roomOf = (pollId: string) => `poll:${pollId}`;
