/**
 * The screenshots `npm run screenshots` takes from a real run are in the docs at the sizes the issue names
 * (presenter 1280×720, audience 360×640) and linked from the README and the web app page.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { repoPath } from "./markdown.js";

/** Width and height from a PNG's IHDR chunk, which always comes first. */
function pngSize(path: string): [number, number] {
  const png = readFileSync(repoPath(path));
  expect(png.subarray(1, 4).toString("latin1"), `${path} is a PNG`).toBe("PNG");
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

describe("screenshots of the pages", () => {
  it.each([
    ["docs/images/presenter.png", 1280, 720],
    ["docs/images/presenter-wordcloud.png", 1280, 720],
    ["docs/images/audience.png", 360, 640],
  ])("%s is %i×%i", (path, width, height) => {
    expect(pngSize(path)).toEqual([width, height]);
  });

  it("the README and the web app page show them", () => {
    const readme = readFileSync(repoPath("README.md"), "utf8");
    for (const image of ["presenter.png", "audience.png"]) expect(readme).toContain(`docs/images/${image}`);
    const web = readFileSync(repoPath("docs/web.md"), "utf8");
    for (const image of ["presenter.png", "audience.png", "presenter-wordcloud.png"])
      expect(web).toContain(`images/${image}`);
  });
});
