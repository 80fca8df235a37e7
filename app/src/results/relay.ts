import type { ResultsSnapshot } from "../domain/poll.js";
import type { StatusChange } from "../usecases/ports.js";

export type { StatusChange };

/** What one instance tells the others about a room. */
export type RelayMessage =
  | { kind: "results"; snapshot: ResultsSnapshot }
  | ({ kind: "status" } & StatusChange);

/**
 * Carries room news between instances. Each instance delivers its own news locally without the relay, so a
 * relay only ever hands over what other instances published.
 */
export interface Relay {
  publish(message: RelayMessage): void;
  /** Called once, by the results module. */
  onMessage(handler: (message: RelayMessage) => void): void;
  close(): Promise<void>;
}

/** One instance, nobody to tell. */
export function createLocalRelay(): Relay {
  return { publish() {}, onMessage() {}, async close() {} };
}
