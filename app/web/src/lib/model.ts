import type { PollView } from "../../../src/domain/poll.js";
import type { JoinPollData, LiveResults } from "../../../src/transports/socket/contract.js";

export { choicesOf } from "../../../src/domain/choices.js";
export type { LiveResults, PollView };
export type QuestionView = PollView["questions"][number];
export type YourAnswer = JoinPollData["yourAnswers"][number];

/**
 * The latest results per question. `seq` is the poll's results version: an update older than the one held is
 * dropped (across a reconnect updates may arrive out of order); equal is kept, because host screens get updates
 * that only move `online`.
 */
export function newerResults(
  held: Record<number, LiveResults>,
  update: LiveResults,
): Record<number, LiveResults> {
  const current = held[update.questionIndex];
  if (current && current.seq > update.seq) return held;
  return { ...held, [update.questionIndex]: update };
}
