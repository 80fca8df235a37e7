import type { Question } from "./questions.js";

/** What a poll, a participant and a results snapshot are, independent of storage and transport. */

export type PollStatus = "open" | "closed";

export interface PollRecord {
  id: string;
  roomCode: string;
  title: string | null;
  questions: Question[];
  /** The question the presenter shows: answers go to it. */
  activeQuestion: number;
  /** The first question as the one-question contract describes it (its text, choices, answer changes). */
  question: string;
  options: string[];
  allowVoteChange: boolean;
  status: PollStatus;
  hostTokenHash: string;
  createdAt: string;
}

/** A poll as clients see it: never the host token hash. */
export interface PollView {
  id: string;
  roomCode: string;
  question: string;
  options: string[];
  status: PollStatus;
  allowVoteChange: boolean;
  createdAt: string;
}

export const toView = (p: PollRecord): PollView => ({
  id: p.id,
  roomCode: p.roomCode,
  question: p.question,
  options: p.options,
  status: p.status,
  allowVoteChange: p.allowVoteChange,
  createdAt: p.createdAt,
});

export interface ParticipantRecord {
  id: string;
  pollId: string;
  nickname: string;
}

export type VoteOutcome = "created" | "changed" | "unchanged";

/** Counts as of one committed results_version: what vote-update messages carry. */
export interface ResultsSnapshot {
  pollId: string;
  roomCode: string;
  /** The question these results are of: the poll's active one when the snapshot was taken. */
  questionIndex: number;
  seq: number;
  counts: number[];
  /** Participants who answered the question. */
  total: number;
  /** Participants who ever joined. */
  participants: number;
  /** Earliest arrival (ms) among the votes this snapshot is the first to include. */
  oldestVoteAt?: number;
}

/** Results as every client sees them: the snapshot plus how many participants are connected right now. */
export interface LiveResults {
  roomCode: string;
  counts: number[];
  total: number;
  participants: number;
  online: number;
  /** results_version of the poll: strictly increasing per room across all instances. */
  seq: number;
}

export type RoomStatus = PollStatus | "deleted";
