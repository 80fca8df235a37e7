/**
 * Lighthouse on the audience page as a phone opens it from the QR code, in mobile emulation: accessibility must
 * score 100. Its performance score depends on timing, so it is measured by `npm run bench` (section `pages`) and
 * reported there, never gated here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireChromium } from "../../../test/browser.js";
import { auditPage } from "../../../test/lighthouse.js";
import { api, type RunningZephyr, startZephyr } from "../../../test/zephyr.js";

describe.runIf(requireChromium())("Lighthouse, audience page, mobile", () => {
  let z: RunningZephyr;
  beforeAll(async () => {
    z = await startZephyr({});
  });
  afterAll(() => z?.stop());

  it("scores 100 for accessibility", async () => {
    const poll = (await api(z.url, "/api/polls", { body: { question: "Ship it?", options: ["yes", "no"] } }))
      .body;
    const audit = await auditPage(`${z.url}/j/${poll.roomCode}`, ["accessibility"]);
    expect(audit.accessibilityFailures).toEqual([]);
    expect(audit.accessibility).toBe(1);
  });
});
