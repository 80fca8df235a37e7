/**
 * WCAG 2.2 AA in Debian's Chromium, on one embedded instance: axe-core finds no violation on any page in any state
 * (creating, presenting and answering each question type, hidden results, closed), in light and dark mode; a poll
 * is created and answered with the keyboard alone, every focused control showing its focus; and user text in
 * every place it appears is rendered as text.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  axeViolations,
  type Browser,
  describeViolations,
  launchBrowser,
  type Page,
  PROJECTOR,
  phoneContext,
  requireChromium,
  watchProblems,
} from "../../../test/browser.js";
import { api, type RunningZephyr, startZephyr } from "../../../test/zephyr.js";
import { answerInUi, createPollInUi, fillCreateForm, joinInUi, type QuestionSpec } from "./pages.js";

const XSS = "<img src=x onerror=alert(1)>";

const QUESTIONS = [
  { type: "single", text: "Ship it?", options: ["Yes", "No"] },
  { type: "multiple", text: "What went well?", options: ["Tests", "Docs", "Demo"], maxChoices: 2 },
  { type: "rating", text: "How was it?", min: 1, max: 5, labels: { min: "bad", max: "great" } },
  { type: "wordcloud", text: "One word", maxEntries: 2 },
  { type: "open", text: "Questions?", moderation: "approve" },
] as const satisfies QuestionSpec[];

const ANSWERS = [
  { optionIndex: 0 },
  { optionIndexes: [0, 2] },
  { value: 4 },
  { entries: ["calm", "fast"] },
  { text: "Why?" },
];

type Locator = ReturnType<Page["getByRole"]>;

/** Presses Tab until `target` has focus (failing after `max`), and checks the focus is visible there. */
async function tabTo(page: Page, target: Locator, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === el.ownerDocument.activeElement)) {
      const outline = await target.evaluate(
        (el) => el.ownerDocument.defaultView?.getComputedStyle(el).outlineStyle,
      );
      expect(outline, "focus is visible").toBe("solid");
      return;
    }
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${target}`);
}

describe.runIf(requireChromium())("the pages are accessible", () => {
  let z: RunningZephyr;
  let browser: Browser;
  beforeAll(async () => {
    z = await startZephyr({});
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await z?.stop();
  });

  /** No axe-core violation on the page as it is, in light and in dark mode. */
  async function expectNoViolations(page: Page, state: string) {
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      expect(describeViolations(await axeViolations(page)), `${state}, ${colorScheme} mode`).toEqual([]);
    }
  }

  it("axe-core: every page in every state, light and dark", async () => {
    const presenter = await (
      await browser.newContext({ viewport: PROJECTOR, reducedMotion: "reduce" })
    ).newPage();
    const phone = await (await phoneContext(browser, { reducedMotion: "reduce" })).newPage();
    const problems = [watchProblems(presenter), watchProblems(phone)];

    await presenter.goto(`${z.url}/`);
    await expectNoViolations(presenter, "create page, empty");
    await fillCreateForm(presenter, z.url, "Retro", [...QUESTIONS]);
    await expectNoViolations(presenter, "create page, every question type");
    await presenter.getByRole("button", { name: "Create poll" }).click();
    await presenter.getByRole("img", { name: "QR code to join" }).waitFor();
    const room = presenter.url().slice(-6);

    await phone.goto(`${z.url}/join`);
    await expectNoViolations(phone, "join page");
    // Its own page: the document's 404 status is logged to the console by design, not a problem to watch for.
    const notFound = await (await phoneContext(browser)).newPage();
    await notFound.goto(`${z.url}/no/such/page`);
    await notFound.getByRole("heading", { name: "Page not found" }).waitFor();
    await expectNoViolations(notFound, "not-found page");
    await phone.goto(`${z.url}/j/${room}`);
    await phone.getByLabel("Nickname").waitFor();
    await expectNoViolations(phone, "audience, nickname");
    await joinInUi(phone, `${z.url}/j/${room}`, "Ann");

    for (const [i, q] of QUESTIONS.entries()) {
      await phone.locator("#question-text").getByText(q.text).waitFor();
      await expectNoViolations(phone, `audience, answering ${q.type}`);
      await answerInUi(phone, q, ANSWERS[i] as never);
      await expectNoViolations(phone, `audience, answered ${q.type}`);
      if (q.type === "open") await presenter.getByRole("button", { name: "Approve" }).waitFor();
      else await presenter.locator(".bars li, .cloud li").first().waitFor();
      await expectNoViolations(presenter, `presenter, ${q.type} with results`);
      if (i === 0) {
        await presenter.getByRole("button", { name: "Hide results" }).click();
        await phone.getByText("The presenter will show the results later.").waitFor();
        await expectNoViolations(presenter, "presenter, results hidden");
        await expectNoViolations(phone, "audience, results hidden");
        await presenter.getByRole("button", { name: "Show results" }).click();
      }
      if (i < QUESTIONS.length - 1) await presenter.getByRole("button", { name: "Next question" }).click();
    }
    await presenter.getByRole("button", { name: "Close poll" }).click();
    await phone.getByText("This poll is closed.").waitFor();
    await expectNoViolations(presenter, "presenter, closed");
    await expectNoViolations(phone, "audience, closed");

    // The host token the create page kept in this browser, as the presenter page uses it.
    const token = await presenter.evaluate(
      (code) => (globalThis as any).localStorage.getItem(`zephyr:host:${code}`),
      room,
    );
    expect(
      (await api(z.url, `/api/polls/${room}`, { method: "DELETE", token: token as string })).status,
    ).toBe(204);
    await phone.getByText("The presenter deleted this poll.").waitFor();
    await presenter.getByText("This poll was deleted.").waitFor();
    await expectNoViolations(phone, "audience, deleted");
    await expectNoViolations(presenter, "presenter, deleted");
    expect(problems.flat()).toEqual([]);
  });

  it("a poll is created and answered with the keyboard alone", async () => {
    const presenter = await (await browser.newContext({ viewport: PROJECTOR })).newPage();
    await presenter.goto(`${z.url}/`);
    const kb = presenter.keyboard;
    await tabTo(presenter, presenter.getByLabel("Title", { exact: true }));
    await kb.type("Keyboard poll");
    const q1 = presenter.getByRole("group", { name: "Question 1", exact: true });
    await tabTo(presenter, q1.getByRole("textbox", { name: "Question 1", exact: true }));
    await kb.type("Pick one");
    await tabTo(presenter, q1.getByRole("textbox", { name: "Option 1", exact: true }));
    await kb.type("Alpha");
    await tabTo(presenter, q1.getByRole("textbox", { name: "Option 2", exact: true }));
    await kb.type("Beta");
    await tabTo(presenter, q1.getByRole("button", { name: "Add option" }));
    await kb.press("Enter");
    // The new option's field takes the focus, ready to type.
    await tabTo(presenter, q1.getByRole("textbox", { name: "Option 3", exact: true }), 1);
    await kb.type("Gamma");
    await tabTo(presenter, presenter.getByRole("button", { name: "Add question" }));
    await kb.press("Enter");
    const q2 = presenter.getByRole("group", { name: "Question 2", exact: true });
    await tabTo(presenter, q2.getByRole("textbox", { name: "Question 2", exact: true }), 1);
    await kb.type("Rate it");
    await tabTo(presenter, q2.getByLabel("Question type"));
    await kb.press("r");
    expect(await q2.getByLabel("Question type").inputValue()).toBe("rating");
    await tabTo(presenter, presenter.getByRole("button", { name: "Create poll" }));
    await kb.press("Enter");
    await presenter.waitForURL(/\/p\/[A-Z0-9]{6}$/);
    const room = presenter.url().slice(-6);

    const phone = await (await phoneContext(browser)).newPage();
    await phone.goto(`${z.url}/j/${room}`);
    await tabTo(phone, phone.getByLabel("Nickname"));
    await phone.keyboard.type("Keys");
    await phone.keyboard.press("Enter");
    const beta = phone.getByRole("button", { name: "Beta", exact: true });
    await beta.waitFor();
    await tabTo(phone, beta);
    await phone.keyboard.press("Space");
    await expect.poll(() => beta.getAttribute("aria-pressed")).toBe("true");

    await tabTo(presenter, presenter.getByRole("button", { name: "Next question" }));
    await kb.press("Enter");
    await phone.getByRole("heading", { name: "Rate it" }).waitFor();
    await tabTo(phone, phone.getByRole("radio", { name: "1", exact: true }));
    await phone.keyboard.press("ArrowRight");
    await phone.keyboard.press("ArrowRight");
    expect(await phone.getByRole("radio", { name: "3", exact: true }).isChecked()).toBe(true);
    await tabTo(phone, phone.getByRole("button", { name: "Send", exact: true }));
    await phone.keyboard.press("Enter");
    await phone.getByRole("status").filter({ hasText: "Your answer was recorded." }).waitFor();

    expect((await api(z.url, `/api/polls/${room}/results?question=0`)).body.counts).toEqual([0, 1, 0]);
    expect((await api(z.url, `/api/polls/${room}/results?question=1`)).body.distribution).toEqual([
      0, 0, 1, 0, 0,
    ]);
  });

  it("user text is rendered as text everywhere it appears", async () => {
    const presenter = await (await browser.newContext({ viewport: PROJECTOR })).newPage();
    const phone = await (await phoneContext(browser)).newPage();
    const problems = [watchProblems(presenter), watchProblems(phone)];
    const room = await createPollInUi(presenter, z.url, XSS, [
      { type: "single", text: XSS, options: [XSS, "safe"] },
      { type: "open", text: "Say it" },
    ]);
    await joinInUi(phone, `${z.url}/j/${room}`, XSS);
    await answerInUi(phone, { type: "single", text: XSS, options: [XSS, "safe"] }, { optionIndex: 0 });
    await presenter.getByRole("button", { name: "Next question" }).click();
    await phone.getByRole("heading", { name: "Say it" }).waitFor();
    await answerInUi(phone, { type: "open", text: "Say it" }, { text: XSS });
    // The open answer and its author's nickname, both the attack string, on the presenter's wall.
    await presenter.locator(".wall .answer-text").getByText(XSS, { exact: true }).waitFor();
    expect(await presenter.locator(".wall .by").textContent()).toBe(`— ${XSS}`);
    expect(await phone.locator(".poll-title").textContent()).toBe(XSS);
    await presenter.getByRole("button", { name: "Previous question" }).click();
    await presenter.getByRole("heading", { name: XSS }).waitFor();
    expect(await presenter.locator(".bar-label").first().textContent()).toBe(XSS);
    for (const page of [presenter, phone]) expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(problems.flat()).toEqual([]);
  });
});
