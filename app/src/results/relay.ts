import type { ResultsSnapshot } from "../domain/poll.js";
import type { StatusChange } from "../usecases/ports.js";

export type { StatusChange };

/** What one instance tells the others about a room. */
export type RelayMessage =
  | { kind: "results"; snapshot: ResultsSnapshot }
  | ({ kind: "status" } & StatusChange);

export const roomOfMessage = (m: RelayMessage) => (m.kind === "results" ? m.snapshot.pollId : m.pollId);

/**
 * Carries room news between instances, room by room: an instance hears a room's news only while it watches
 * the room (has members of it), so each instance's inbound traffic follows its own rooms, not every room.
 * Each instance delivers its own news locally without the relay, so a relay only ever hands over what other
 * instances published.
 */
export interface Relay {
  publish(message: RelayMessage): void;
  /** Called once, by the results module. */
  onMessage(handler: (message: RelayMessage) => void): void;
  /** Starts hearing a room's news; resolves once the subscription is in place (or has failed: resync heals). */
  watch(pollId: string): Promise<void>;
  unwatch(pollId: string): void;
  close(): Promise<void>;
}

/** One instance, nobody to tell. */
export function createLocalRelay(): Relay {
  return { publish() {}, onMessage() {}, async watch() {}, unwatch() {}, async close() {} };
}
