import {
  choicesOf,
  type OpenAnswer,
  type Question,
  type QuestionResults,
  type QuestionType,
} from "./questions.js";

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

/** The first question as the one-question contract describes a poll: its text, choices and answer changes. */
export function firstQuestionFields(
  questions: Question[],
): Pick<PollRecord, "question" | "options" | "allowVoteChange"> {
  const first = questions[0];
  return {
    question: first?.text ?? "",
    options: first ? choicesOf(first) : [],
    allowVoteChange: first !== undefined && "allowVoteChange" in first && first.allowVoteChange,
  };
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
  title: string | null;
  /** Every question of the presentation, each with its position. */
  questions: Array<Question & { index: number }>;
  activeQuestion: number;
}

export const toView = (p: PollRecord): PollView => ({
  id: p.id,
  roomCode: p.roomCode,
  question: p.question,
  options: p.options,
  status: p.status,
  allowVoteChange: p.allowVoteChange,
  createdAt: p.createdAt,
  title: p.title,
  questions: p.questions.map((q, index) => ({ ...q, index })),
  activeQuestion: p.activeQuestion,
});

/**
 * A poll of one single-choice question: what the original contract describes. Its answers and results keep the
 * original shapes exactly, so clients written for that contract see no change.
 */
export const isSingleChoicePoll = (p: Pick<PollRecord, "questions">): boolean =>
  p.questions.length === 1 && p.questions[0]?.type === "single";

/**
 * `GET …/results` of a poll of one single-choice question, asked without a question or a host token, in the
 * original contract's shape; every other answer carries the question's index, type and the results version.
 */
export function originalShape(live: LiveResults): LiveResults | Record<string, unknown> {
  if (live.type !== "single" || live.hidden || live.questionCount !== 1) return live;
  const { roomCode, counts, total, participants, online } = live;
  return { roomCode, counts, total, participants, online };
}

export interface ParticipantRecord {
  id: string;
  pollId: string;
  nickname: string;
}

export type VoteOutcome = "created" | "changed" | "unchanged";

/** The results of one question as of one committed results_version: what vote-update messages are made of. */
export interface ResultsSnapshot {
  pollId: string;
  roomCode: string;
  /** The question these results are of. */
  questionIndex: number;
  /** The poll's active question as of this snapshot. */
  activeQuestion: number;
  questionCount: number;
  seq: number;
  /** Participants who ever joined. */
  participants: number;
  /** While true only host screens get the results; participants learn that they are hidden. */
  hidden: boolean;
  results: QuestionResults;
  /** Open answers waiting for the host's approval, oldest first (host screens only). */
  pending?: OpenAnswer[];
  /** Earliest arrival (ms) among the answers this snapshot is the first to include. */
  oldestVoteAt?: number;
}

/**
 * Results as a client sees them: the snapshot's question, its results unless hidden, and who is connected now.
 * Which result fields are present follows `type` (QuestionResults); none while `hidden` for the room.
 */
export interface LiveResults {
  roomCode: string;
  questionIndex: number;
  type: QuestionType;
  hidden: boolean;
  /** single, multiple: participants per option. */
  counts?: number[];
  /** rating: participants per scale value, min..max. */
  distribution?: number[];
  average?: number | null;
  /** wordcloud: the top 100 words by count, ties by text. */
  words?: Array<{ text: string; count: number }>;
  /** open: the newest 50 shown answers (each with its status on host screens). */
  answers?: OpenAnswer[];
  /** Host view of an open question with moderation: answers waiting for approval, oldest first. */
  pending?: OpenAnswer[];
  /** Participants who answered (open: shown answers). */
  total?: number;
  /** Participants who ever joined. */
  participants: number;
  /** Participants connected right now, across all instances. */
  online: number;
  /** results_version of the poll: strictly increasing per room across all instances. */
  seq: number;
  /** How many questions the poll has. */
  questionCount: number;
}

/**
 * What one audience sees of a snapshot. The room gets no results while they are hidden and never sees pending
 * answers; hosts see everything, with each open answer's status so a moderation screen can act on it.
 */
export function liveView(s: ResultsSnapshot, online: number, audience: "room" | "host"): LiveResults {
  const { type, ...fields } = s.results;
  const shown =
    audience === "room"
      ? s.hidden
        ? {}
        : fields
      : type === "open" && "answers" in fields
        ? {
            ...fields,
            answers: fields.answers.map((a) => ({ ...a, status: "shown" as const })),
            ...(s.pending ? { pending: s.pending.map((a) => ({ ...a, status: "pending" as const })) } : {}),
          }
        : fields;
  return {
    roomCode: s.roomCode,
    questionIndex: s.questionIndex,
    questionCount: s.questionCount,
    type,
    hidden: s.hidden,
    ...shown,
    participants: s.participants,
    online,
    seq: s.seq,
  };
}

export type RoomStatus = PollStatus | "deleted";
