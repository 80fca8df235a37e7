import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "./paths.js";
import { skipOrFail } from "./tools.js";

/**
 * Schemas shared between the projects (CRDs, skaffold's and compose's JSON schemas): the `shared/` repository
 * cloned next to this one, or wherever ZEPHYR_SHARED_DIR points (set it to a missing directory to see the
 * tests that need it skip, or fail under CI=true).
 */
export const SHARED_DIR = resolve(process.env.ZEPHYR_SHARED_DIR ?? join(REPO_ROOT, "../shared"));

/** The absolute path of each file under SHARED_DIR when all exist, or undefined after {@link skipOrFail}. */
export function requireShared(...relPaths: string[]): string[] | undefined {
  const files = relPaths.map((p) => join(SHARED_DIR, p));
  const missing = relPaths.filter((_, i) => !existsSync(files[i] as string));
  if (missing.length === 0) return files;
  return skipOrFail(
    `${missing.join(", ")} not found in ${SHARED_DIR}`,
    "clone the shared repository next to this one, or point ZEPHYR_SHARED_DIR at it",
  );
}
