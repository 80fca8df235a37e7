import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const dirs: string[] = [];
let cleanupRegistered = false;

/**
 * A fresh temporary directory, removed after the calling test file. Call it at a file's top level or inside
 * a test; the cleanup hook is registered on first use, which vitest allows at collection time.
 */
export function scratchDir(prefix: string): string {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    afterAll(() => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    });
  }
  const dir = mkdtempSync(join(tmpdir(), `zephyr-${prefix}-`));
  dirs.push(dir);
  return dir;
}
