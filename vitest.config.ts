import { defineConfig } from "vitest/config";

const BROWSER_TESTS = "app/test/browser/**/*.test.ts";
// Saturates two instances' CPU on purpose (the HPA must see it): alone, so no other suite pays for that load.
const AUTOSCALING_TESTS = "chart/test/controlplane/autoscaling.test.ts";

export default defineConfig({
  test: {
    // Real servers, real databases: slow-ish by nature, and the machines have 2 cores.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    globalSetup: ["test/global-setup.ts"],
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]],
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["{app,chart,alerts,dashboards,docs,loadtest,test}/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", BROWSER_TESTS, AUTOSCALING_TESTS],
        },
      },
      // Chromium with 31 pages needs both cores: after everything else, one file at a time, so what the browser
      // tests measure (a host step reaching every page within 1 s) is not competing with another suite's load;
      // the autoscaling suite's deliberate CPU load runs in this serial group for the same reason.
      {
        extends: true,
        test: {
          name: "browser",
          include: [BROWSER_TESTS, AUTOSCALING_TESTS],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
