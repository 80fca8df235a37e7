import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{app,chart,alerts,dashboards,docs,loadtest,test}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    // Real servers, real databases: slow-ish by nature, and the machines have 2 cores.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    globalSetup: ["test/global-setup.ts"],
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]],
  },
});
