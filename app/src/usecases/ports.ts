import type {
  LiveResults,
  ParticipantRecord,
  PollRecord,
  PollStatus,
  ResultsSnapshot,
  RoomStatus,
  VoteOutcome,
} from "../domain/poll.js";
import type { Question } from "../domain/questions.js";

/**
 * What the use cases need from the rest of the service. Storage, Redis and the transports implement these;
 * the use cases only ever see the interfaces, so they run the same on PostgreSQL or PGlite, with or without
 * Redis, called from HTTP or Socket.IO.
 */

export interface NewPoll {
  id: string;
  roomCode: string;
  title?: string;
  questions: Question[];
  hostTokenHash: string;
}

export interface NewParticipant {
  id: string;
  pollId: string;
  roomCode: string;
  nickname: string;
  tokenHash: string;
}

export interface PollStore {
  /** "taken" when the room code is already in use (the caller draws another). */
  insertPoll(poll: NewPoll): Promise<{ createdAt: string } | "taken">;
  findPollByCode(roomCode: string): Promise<PollRecord | undefined>;
  setStatus(pollId: string, status: PollStatus): Promise<boolean>;
  deletePoll(pollId: string): Promise<boolean>;
  /**
   * Adds participants of one poll in arrival order until it holds `cap` of them, in one transaction: the first
   * `added` are in, the rest found it full. The snapshot is the poll's results as of that transaction.
   */
  addParticipants(
    pollId: string,
    roomCode: string,
    participants: Array<Pick<NewParticipant, "id" | "nickname" | "tokenHash">>,
    cap: number,
  ): Promise<{ added: number; snapshot: ResultsSnapshot } | "missing">;
  findParticipantByTokenHash(tokenHash: string): Promise<ParticipantRecord | undefined>;
  voteOf(pollId: string, participantId: string): Promise<number | undefined>;
}

export interface VoteRequest {
  pollId: string;
  roomCode: string;
  /** The question answered: the poll's active one when the answer was checked. */
  questionIndex: number;
  participantId: string;
  /** The chosen option positions as a bit mask (one bit for a single choice or a rating). */
  mask: number;
  /** Date.now() when the vote reached this instance; feeds the vote-to-broadcast latency. */
  receivedAt: number;
}

export interface VoteSubmitter {
  /** Resolves once the vote is durable (or rejects with the reason it was not stored). */
  submit(vote: VoteRequest): Promise<VoteOutcome>;
}

export interface ParticipantAdder {
  /** Resolves once the participant is durable, with the poll's results as of its commit (POLL_FULL when full). */
  add(participant: NewParticipant): Promise<ResultsSnapshot>;
}

/** One answer in an export: a chosen option, a word-cloud entry or an open answer (with its moderation status). */
export interface ExportRow {
  questionIndex: number;
  type: Question["type"];
  question: string;
  nickname: string;
  answer: string;
  status: string;
  answeredAt: string;
}

export interface PollExporter {
  /** Every answer of the poll, streamed page by page. */
  rows(pollId: string): AsyncIterable<ExportRow>;
}

/** The results module as the use cases see it. */
export interface ResultsReader {
  /** A snapshot as clients see it: with the poll's online count. */
  withOnline(snapshot: ResultsSnapshot): Promise<LiveResults>;
  /** Current results of a poll, online count included. */
  live(poll: Pick<PollRecord, "id" | "roomCode">): Promise<LiveResults>;
  /** The same by room code, from a short cache fed by committed snapshots; undefined for no such poll. */
  liveByCode(roomCode: string): Promise<LiveResults | undefined>;
  /** Host actions reach every instance's members of the room. */
  statusChanged(e: { pollId: string; roomCode: string; status: RoomStatus }): void;
}

export type LimitRule = "pollCreate" | "join" | "joinPolls" | "roomMiss" | "vote";

export interface LimitDecision {
  allowed: boolean;
  /** Hits in the current window, this one included. */
  consumed: number;
  retryAfterMs: number;
}

export interface Limits {
  consume(rule: LimitRule, key: string): Promise<LimitDecision>;
  /** Takes back one hit (an action that was counted but then refused for another reason). */
  refund(rule: LimitRule, key: string): Promise<void>;
  /** Milliseconds until the key may act again when it is over the rule's limit, else 0; counts nothing. */
  blockedFor(rule: LimitRule, key: string): Promise<number>;
}

export type { ResultsSnapshot };
