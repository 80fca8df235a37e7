/**
 * The screenshots in docs/images, from a real run: a compiled instance with its embedded database, the presenter
 * page at 1280×720 and a phone at 360×640 in Debian's Chromium, a poll created through the create page and
 * answered by twelve phones through the audience page. `npm run screenshots` rebuilds and retakes them.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { answerInUi, createPollInUi, joinInUi, type QuestionSpec } from "../app/test/browser/pages.js";
import { launchBrowser, PROJECTOR, phoneContext } from "../test/browser.js";
import { REPO_ROOT } from "../test/paths.js";
import { spawnZephyr } from "../test/zephyr.js";

const OUT = resolve(REPO_ROOT, "docs/images");
const QUESTIONS = [
  {
    type: "single",
    text: "Which feature should we build next?",
    options: ["Dark mode", "Offline answers", "Slides import", "Team spaces"],
  },
  { type: "wordcloud", text: "One word for this quarter", maxEntries: 2 },
] as const satisfies QuestionSpec[];
const CHOICES = [1, 0, 1, 2, 1, 3, 1, 0, 2, 1, 0, 1];
const WORDS = [
  ["growth", "focus"],
  ["focus", "speed"],
  ["growth", "teamwork"],
  ["speed", "focus"],
  ["calm", "growth"],
  ["focus", "learning"],
  ["growth", "speed"],
  ["shipping", "focus"],
  ["teamwork", "growth"],
  ["focus", "fun"],
  ["growth", "speed"],
  ["learning", "focus"],
];

const z = await spawnZephyr({}, { timeoutMs: 60_000 });
const browser = await launchBrowser();
try {
  mkdirSync(OUT, { recursive: true });
  const presenter = await (await browser.newContext({ viewport: PROJECTOR, colorScheme: "light" })).newPage();
  const room = await createPollInUi(presenter, z.url, "Quarterly all-hands", [...QUESTIONS]);
  const phones = await Promise.all(
    CHOICES.map(async (_, i) => {
      const page = await (await phoneContext(browser, { colorScheme: "light" })).newPage();
      await joinInUi(page, `${z.url}/j/${room}`, `Guest ${i + 1}`);
      return page;
    }),
  );
  for (const [i, page] of phones.entries())
    await answerInUi(page, QUESTIONS[0], { optionIndex: CHOICES[i] as number });
  await presenter.getByText(`${phones.length} joined`).waitFor();
  await presenter.waitForTimeout(600);
  await presenter.screenshot({ path: resolve(OUT, "presenter.png") });
  await phones[0]?.screenshot({ path: resolve(OUT, "audience.png") });

  await presenter.getByRole("button", { name: "Next question" }).click();
  for (const [i, page] of phones.entries()) {
    await page.getByRole("heading", { name: QUESTIONS[1].text }).waitFor();
    await answerInUi(page, QUESTIONS[1], { entries: WORDS[i] as string[] });
  }
  await presenter.waitForTimeout(600);
  await presenter.screenshot({ path: resolve(OUT, "presenter-wordcloud.png") });
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  z.kill("SIGTERM");
  await z.exited;
}
