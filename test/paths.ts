import { join, resolve } from "node:path";

/** The repository root, whichever component's test asks. */
export const REPO_ROOT = resolve(import.meta.dirname, "..");
/** Pinned tools that .ci/setup builds or installs (git-ignored). */
export const BIN = join(REPO_ROOT, "bin");
/** The chart under test. */
export const CHART = join(REPO_ROOT, "chart");
