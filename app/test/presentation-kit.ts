/**
 * What the presentation tests share: a poll with one question of every type, seeded answers for it, and the
 * results those answers must produce, computed here independently of the service (word normalisation by a
 * hand-written table, not by the service's function).
 */
import { seededRandom } from "./storage-kit.js";

export const FIVE_QUESTIONS = {
  title: "Team retro",
  questions: [
    { type: "single", text: "Ship it?", options: ["yes", "no"] },
    { type: "multiple", text: "Which went well?", options: ["tests", "docs", "demo"], maxChoices: 2 },
    { type: "rating", text: "How was the sprint?", min: 1, max: 5, labels: { min: "bad", max: "great" } },
    { type: "wordcloud", text: "One word for the team", maxEntries: 2 },
    { type: "open", text: "Questions?", moderation: "approve" },
  ],
} as const;

/** Spellings participants type, each with the word it must be counted as. */
export const WORD_SPELLINGS: ReadonlyArray<readonly [string, string]> = [
  ["Rocket", "rocket"],
  ["  ROCKET ", "rocket"],
  ["team  spirit", "team spirit"],
  ["Team\u00a0Spirit", "team spirit"],
  ["Straße", "strasse"],
  ["STRASSE", "strasse"],
  ["cafe\u0301", "café"],
  ["CAFÉ", "café"],
  ["🚀", "🚀"],
  ["שלום", "שלום"],
  ["ΣΟΦΙΑ", "σοφια"],
  ["x'; DROP TABLE word_counts; --", "x'; drop table word_counts; --"],
];

export type Answers = Array<Record<string, unknown>>;

/** One answer per participant for question `q` of FIVE_QUESTIONS (open: one to three texts). */
export function answersFor(q: number, participants: number, seed: number): Answers[] {
  const next = seededRandom(seed * 31 + q);
  return Array.from({ length: participants }, (_, i) => {
    switch (q) {
      case 0:
        return [{ optionIndex: next(2) }];
      case 1: {
        const first = next(3);
        const second = next(3);
        return [{ optionIndexes: first === second ? [first] : [first, second] }];
      }
      case 2:
        return [{ value: 1 + next(5) }];
      case 3: {
        const a = WORD_SPELLINGS[next(WORD_SPELLINGS.length)] as readonly [string, string];
        const b = WORD_SPELLINGS[next(WORD_SPELLINGS.length)] as readonly [string, string];
        return [{ entries: a[1] === b[1] ? [a[0]] : [a[0], b[0]] }];
      }
      default:
        return Array.from({ length: 1 + next(3) }, (_, k) => ({
          text: `question ${k} from participant ${i}`,
        }));
    }
  });
}

const byCodePoint = (a: string, b: string) => {
  const x = [...a].map((c) => c.codePointAt(0) as number);
  const y = [...b].map((c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++)
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
};

const canonical = new Map(WORD_SPELLINGS.map(([typed, word]) => [typed, word]));

/** The room's results for question `q` after `answers` (open: `approved` texts are the shown ones). */
export function expectedResults(
  q: number,
  answers: Answers[],
  approved: string[] = [],
): Record<string, unknown> {
  const all = answers.flat();
  switch (q) {
    case 0:
    case 1: {
      const counts = [0, 0, 0].slice(0, q === 0 ? 2 : 3);
      for (const a of all)
        for (const i of (a.optionIndexes as number[]) ?? [a.optionIndex]) counts[i] = (counts[i] ?? 0) + 1;
      return { counts, total: answers.length };
    }
    case 2: {
      const distribution = [0, 0, 0, 0, 0];
      for (const a of all)
        distribution[(a.value as number) - 1] = (distribution[(a.value as number) - 1] ?? 0) + 1;
      const sum = all.reduce((s, a) => s + (a.value as number), 0);
      return { distribution, average: Math.round((100 * sum) / all.length) / 100, total: answers.length };
    }
    case 3: {
      const counts = new Map<string, number>();
      for (const a of all)
        for (const typed of a.entries as string[]) {
          const word = canonical.get(typed) as string;
          counts.set(word, (counts.get(word) ?? 0) + 1);
        }
      const words = [...counts]
        .map(([text, count]) => ({ text, count }))
        .sort((a, b) => b.count - a.count || byCodePoint(a.text, b.text));
      return { words, total: answers.length };
    }
    default:
      return { total: approved.length };
  }
}

/** The result fields of a results message (what expectedResults describes), without ids and times. */
export function resultFields(r: Record<string, unknown>): Record<string, unknown> {
  const { counts, distribution, average, words, total } = r;
  return Object.fromEntries(
    Object.entries({ counts, distribution, average, words, total }).filter(([, v]) => v !== undefined),
  );
}
