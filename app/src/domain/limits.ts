/**
 * The limits of what people type and choose, in a module of its own (no zod) so the web pages show and enforce
 * the same numbers the service validates.
 */
export const LIMITS = {
  questionMax: 300,
  optionMax: 100,
  optionsMin: 2,
  optionsMax: 10,
  nicknameMaxGraphemes: 32,
  nicknameMaxCodeUnits: 128,
  questionsMax: 50,
  ratingMaxTop: 10,
  wordMax: 40,
  wordEntriesMax: 5,
  wordEntriesDefault: 3,
  openAnswerMax: 280,
  openAnswersPerParticipant: 3,
} as const;
