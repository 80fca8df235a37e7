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

export type ParticipantAnswers = Array<
  | { questionIndex: number; kind: "choice"; mask: number }
  | { questionIndex: number; kind: "words"; words: string[] }
  | {
      questionIndex: number;
      kind: "texts";
      texts: Array<{ answerId: string; text: string; status: AnswerStatus }>;
    }
>;

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
  /** Everything a participant answered, by question: choices as a mask, entries, open answers in order. */
  answersOf(pollId: string, participantId: string): Promise<ParticipantAnswers>;
}

/** An answer as it is stored: option positions as a bit mask, distinct normalised words, or one open answer. */
export type StoredAnswer =
  | { kind: "choice"; mask: number }
  | { kind: "words"; words: string[] }
  | { kind: "text"; text: string; id: string; limit: number };

export interface AnswerRequest {
  pollId: string;
  roomCode: string;
  /** The question answered: the poll's active one when the answer was checked. */
  questionIndex: number;
  participantId: string;
  answer: StoredAnswer;
  /** Date.now() when the answer reached this instance; feeds the answer-to-broadcast latency. */
  receivedAt: number;
}

export interface AnswerSubmitter {
  /** Resolves once the answer is durable (or rejects with the reason it was not stored). */
  submit(answer: AnswerRequest): Promise<VoteOutcome>;
}

export interface ParticipantAdder {
  /** Resolves once the participant is durable, with the poll's results as of its commit (POLL_FULL when full). */
  add(participant: NewParticipant): Promise<ResultsSnapshot>;
}

/** What the presenter changes; each returns the snapshot of the question it changed, as of its transaction. */
export interface HostStore {
  /** false when the poll or the question does not exist. */
  activateQuestion(pollId: string, index: number): Promise<ResultsSnapshot | false>;
  setResultsHidden(pollId: string, index: number, hidden: boolean): Promise<ResultsSnapshot | false>;
  /**
   * approve shows a pending answer; remove takes a pending or shown one away for good. The answer's status after
   * it, with a snapshot when that changed something.
   */
  moderateAnswer(
    pollId: string,
    index: number,
    answerId: string,
    action: "approve" | "remove",
  ): Promise<{ status: AnswerStatus; snapshot?: ResultsSnapshot } | "missing">;
}

export type AnswerStatus = "shown" | "pending" | "removed";

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

/** Who reads results: the room (no results while hidden, shown answers only) or a host screen (everything). */
export type Audience = "room" | "host";

export interface ResultsQuery {
  /** Default: the poll's active question. */
  questionIndex?: number;
  audience?: Audience;
}

/** The results module as the use cases see it. */
export interface ResultsReader {
  /** A snapshot as one audience (the room by default) sees it: with the poll's online count. */
  withOnline(snapshot: ResultsSnapshot, audience?: Audience): Promise<LiveResults>;
  /** Current results of one question of a poll, read from the database; undefined once the poll is gone. */
  live(poll: Pick<PollRecord, "id">, query?: ResultsQuery): Promise<LiveResults | undefined>;
  /** The same by room code, from a short cache fed by committed snapshots; undefined for no such poll. */
  liveByCode(roomCode: string, query?: ResultsQuery): Promise<LiveResults | undefined>;
  /** The poll's active question as the newest snapshot seen on any instance says (a cached poll row may lag). */
  activeQuestion(roomCode: string): Promise<number | undefined>;
  /** A host action's snapshot (a question activated, hidden or revealed, an answer moderated). */
  committed(snapshot: ResultsSnapshot): void;
  /** Host actions reach every instance's members of the room. */
  statusChanged(e: StatusChange): void;
}

/** A room's status, and its active question when that is what changed. */
export interface StatusChange {
  pollId: string;
  roomCode: string;
  status: RoomStatus;
  activeQuestion?: number;
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
