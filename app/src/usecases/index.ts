import type { ActionObserver } from "./caller.js";
import { type CastVote, castVoteUseCase } from "./cast-vote.js";
import { type CreatePoll, createPollUseCase } from "./create-poll.js";
import { type HostActions, hostActionsUseCase } from "./host-actions.js";
import { type JoinPoll, joinPollUseCase } from "./join-poll.js";
import { createLookups } from "./lookups.js";
import type {
  AnswerSubmitter,
  HostStore,
  Limits,
  ParticipantAdder,
  PollExporter,
  PollStore,
  ResultsReader,
} from "./ports.js";
import { type ReadPoll, readPollUseCase } from "./read-poll.js";

export type { Caller, Transport } from "./caller.js";

/** Every action a client can take, each implemented once and called by every transport. */
export interface UseCases {
  createPoll: CreatePoll;
  join: JoinPoll;
  vote: CastVote;
  host: HostActions;
  read: ReadPoll;
}

export interface UseCaseDeps {
  polls: PollStore;
  participants: ParticipantAdder;
  votes: AnswerSubmitter;
  questions: HostStore;
  exporter: PollExporter;
  results: ResultsReader;
  limits: Limits;
  observer: ActionObserver;
  /** How long poll rows and token owners are reused for votes and joins (0 = read every time). */
  lookupCacheMs?: number;
}

export function createUseCases({
  polls,
  participants,
  votes,
  questions,
  exporter,
  results,
  limits,
  observer,
  lookupCacheMs,
}: UseCaseDeps): UseCases {
  const lookups = createLookups({ polls, limits, cacheMs: lookupCacheMs });
  return {
    createPoll: createPollUseCase({ polls, limits, observer }),
    join: joinPollUseCase({ polls, participants, lookups, limits, results, observer }),
    vote: castVoteUseCase({ votes, lookups, limits, results, observer }),
    host: hostActionsUseCase({ polls, questions, exporter, lookups, results, observer }),
    read: readPollUseCase({ lookups, results, observer }),
  };
}
