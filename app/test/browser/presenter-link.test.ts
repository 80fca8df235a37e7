/**
 * The host token stays in the browser: the create page keeps it in localStorage for its room, and "Copy presenter
 * link" carries it in the URL fragment, which a second device opens to present. No request of either browser
 * ever carries the token in a URL (so no access log can hold it), and the fragment leaves the address bar at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchBrowser, PROJECTOR, requireChromium } from "../../../test/browser.js";
import { type RunningZephyr, startZephyr } from "../../../test/zephyr.js";
import { createPollInUi } from "./pages.js";

describe.runIf(requireChromium())("presenter link", () => {
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

  it("opens the presenter view on a second device from the fragment, never sending the token in a URL", async () => {
    const first = await browser.newContext({ viewport: PROJECTOR });
    await first.grantPermissions(["clipboard-read", "clipboard-write"], { origin: z.url });
    const urls: string[] = [];
    first.on("request", (r) => urls.push(r.url()));
    const presenter = await first.newPage();
    const room = await createPollInUi(presenter, z.url, "Handover", [
      { type: "single", text: "Ready?", options: ["yes", "no"] },
    ]);
    const token = (await presenter.evaluate(
      (code) => (globalThis as any).localStorage.getItem(`zephyr:host:${code}`),
      room,
    )) as string;
    expect(token).toMatch(/^zph_/);

    await presenter.getByRole("button", { name: "Copy presenter link" }).click();
    await presenter.getByText("Presenter link copied.").waitFor();
    const link = (await presenter.evaluate(() =>
      (globalThis as any).navigator.clipboard.readText(),
    )) as string;
    expect(link).toBe(`${z.url}/p/${room}#host=${token}`);

    const second = await browser.newContext({ viewport: PROJECTOR });
    second.on("request", (r) => urls.push(r.url()));
    const other = await second.newPage();
    await other.goto(link);
    await other.getByRole("button", { name: "Close poll" }).click();
    await presenter.getByRole("button", { name: "Reopen poll" }).waitFor();
    expect(other.url()).toBe(`${z.url}/p/${room}`);

    expect(urls.length).toBeGreaterThan(5);
    expect(urls.filter((u) => u.includes(token))).toEqual([]);
    const logs = z.logs.join("");
    expect(logs).not.toContain(token);
  });
});
