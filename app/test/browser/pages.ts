import type { Page } from "../../../test/browser.js";

/**
 * The pages driven the way people use them: controls found by the accessible names the issue fixes (the same
 * names a screen reader announces), never by CSS classes.
 */

export type QuestionSpec =
  | { type: "single"; text: string; options: string[]; allowVoteChange?: boolean }
  | { type: "multiple"; text: string; options: string[]; maxChoices?: number }
  | { type: "rating"; text: string; min: 0 | 1; max: number; labels?: { min?: string; max?: string } }
  | { type: "wordcloud"; text: string; maxEntries?: number }
  | { type: "open"; text: string; moderation?: "approve" };

export type AnswerSpec =
  | { optionIndex: number }
  | { optionIndexes: number[] }
  | { value: number }
  | { entries: string[] }
  | { text: string };

/** Fills the create page and submits it; resolves with the room code once the presenter view shows it. */
export async function createPollInUi(page: Page, base: string, title: string, questions: QuestionSpec[]) {
  await fillCreateForm(page, base, title, questions);
  await page.getByRole("button", { name: "Create poll" }).click();
  await page.waitForURL(/\/p\/[A-Z0-9]{6}$/);
  await page.getByRole("img", { name: "QR code to join" }).waitFor();
  return page.url().slice(-6);
}

/** Opens the create page and fills in the title and every question with its settings. */
export async function fillCreateForm(page: Page, base: string, title: string, questions: QuestionSpec[]) {
  await page.goto(`${base}/`);
  await page.getByLabel("Title", { exact: true }).fill(title);
  for (const [i, q] of questions.entries()) {
    const name = `Question ${i + 1}`;
    if (i > 0) await page.getByRole("button", { name: "Add question" }).click();
    const group = page.getByRole("group", { name, exact: true });
    await group.getByRole("textbox", { name, exact: true }).fill(q.text);
    await group.getByLabel("Question type").selectOption(q.type);
    if (q.type === "single" || q.type === "multiple") {
      for (const [j, option] of q.options.entries()) {
        if (j >= 2) await group.getByRole("button", { name: "Add option" }).click();
        await group.getByRole("textbox", { name: `Option ${j + 1}`, exact: true }).fill(option);
      }
    }
    if (q.type === "single" && q.allowVoteChange) await group.getByLabel("Participants may change").check();
    if (q.type === "multiple" && q.maxChoices) {
      await group.getByLabel("Choices per participant").fill(String(q.maxChoices));
    }
    if (q.type === "rating") {
      await group.getByLabel("Lowest value", { exact: true }).selectOption(String(q.min));
      await group.getByLabel("Highest value", { exact: true }).fill(String(q.max));
      if (q.labels?.min) await group.getByLabel("Label of the lowest value").fill(q.labels.min);
      if (q.labels?.max) await group.getByLabel("Label of the highest value").fill(q.labels.max);
    }
    if (q.type === "wordcloud" && q.maxEntries) {
      await group.getByLabel("Words per participant").fill(String(q.maxEntries));
    }
    if (q.type === "open" && q.moderation === "approve") await group.getByLabel("Approve answers").check();
  }
}

/** Opens /j/ROOM and joins with a nickname; resolves once the first question shows. */
export async function joinInUi(page: Page, url: string, nickname: string) {
  await page.goto(url);
  await page.getByLabel("Nickname").fill(nickname);
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await page.locator("#question-text").waitFor();
}

/** Answers the question on screen through its controls; resolves once the service acknowledged it. */
export async function answerInUi(page: Page, q: QuestionSpec, answer: AnswerSpec) {
  if ("optionIndex" in answer && q.type === "single") {
    const name = q.options[answer.optionIndex];
    await page.getByRole("button", { name, exact: true }).click();
    await page.getByRole("button", { name, exact: true, pressed: true }).waitFor();
    return;
  }
  if ("optionIndexes" in answer && q.type === "multiple") {
    for (const i of answer.optionIndexes) {
      await page.getByRole("button", { name: q.options[i], exact: true }).click();
    }
  } else if ("value" in answer) {
    await page.getByRole("radio", { name: String(answer.value), exact: true }).check();
  } else if ("entries" in answer) {
    for (const [i, word] of answer.entries.entries()) await page.getByLabel(`Word ${i + 1}`).fill(word);
  } else if ("text" in answer) {
    await page.getByRole("textbox", { name: "Your answer" }).fill(answer.text);
  }
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Your answer was recorded." }).waitFor();
}

/** The rows of the results on screen: label (without the "Your answer" badge) and count. */
export async function barsOnScreen(page: Page): Promise<Array<{ label: string; count: number }>> {
  return page.locator(".bars > li").evaluateAll((items) =>
    items.map((li) => ({
      label: (li.querySelector(".bar-label")?.firstChild?.textContent ?? "").trim(),
      count: Number(li.querySelector(".count")?.textContent),
    })),
  );
}

export async function wordsOnScreen(page: Page): Promise<Array<{ text: string; count: number }>> {
  return page.locator(".cloud > li").evaluateAll((items) =>
    items.map((li) => ({
      text: li.querySelector(".word")?.textContent ?? "",
      count: Number(li.querySelector(".word-count")?.textContent),
    })),
  );
}

/** What a page should show; checked in the page, so the test's TypeScript needs no DOM types. */
export type Shows =
  | { text: string }
  | { noText: string }
  | { question: string }
  | { count: string; is: number }
  | { wallHas: string }
  | { wallLacks: string };

/**
 * Starts watching the page for `what`: a MutationObserver in the page notes the page's clock the moment it is
 * shown, so how long an event took to reach a page is measured in the page itself, at no polling cost to 30
 * pages sharing two cores. (A function, not a string: the pages' CSP forbids eval, and tests run under it.)
 */
export async function watchFor(page: Page, what: Shows): Promise<void> {
  await page.evaluate((w: Shows) => {
    const g = globalThis as any;
    const doc = g.document;
    const wall = (): string[] =>
      [...doc.querySelectorAll(".wall .answer-text")].map((e: { textContent: string }) => e.textContent);
    const shown = () =>
      "text" in w
        ? doc.body.textContent.includes(w.text)
        : "noText" in w
          ? !doc.body.textContent.includes(w.noText)
          : "question" in w
            ? doc.querySelector("#question-text")?.textContent === w.question
            : "count" in w
              ? doc.querySelectorAll(w.count).length === w.is
              : "wallHas" in w
                ? wall().includes(w.wallHas)
                : !wall().includes(w.wallLacks);
    g.__zephyrObserver?.disconnect();
    // A promise the test awaits with one evaluate: nothing polls the 30 pages while they work.
    g.__zephyrShown = new Promise((resolve) => {
      const check = () => {
        if (!shown()) return;
        observer.disconnect();
        resolve(Date.now());
      };
      const observer = new g.MutationObserver(check);
      g.__zephyrObserver = observer;
      observer.observe(doc, { subtree: true, childList: true, characterData: true, attributes: true });
      check();
    });
  }, what);
}

/** The page's clock when what {@link watchFor} watches was first shown. */
export async function shownAt(page: Page, timeoutMs = 10_000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not shown within ${timeoutMs} ms on ${page.url()}`)),
      timeoutMs,
    );
  });
  try {
    return (await Promise.race([page.evaluate(() => (globalThis as any).__zephyrShown), timeout])) as number;
  } finally {
    clearTimeout(timer);
  }
}

export async function whenShown(page: Page, what: Shows, timeoutMs = 10_000): Promise<number> {
  await watchFor(page, what);
  return shownAt(page, timeoutMs);
}
