// Prints the plain "N passed, N failed, N skipped" closing line from vitest's JSON report, and in CI turns
// any skipped test into a failure: a skipped test is never counted as a pass. It runs whether or not the tests
// passed, and prints each failure's message last: CI records often keep only the tail of the output, and the
// tail is then the diagnosis rather than vitest's code frame.
import { existsSync, readFileSync } from "node:fs";
import { stripVTControlCharacters as plain } from "node:util";

const reportPath = ".tmp/vitest-report.json";
if (!existsSync(reportPath)) {
  console.error(`no test report at ${reportPath}: the test run did not finish`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(reportPath, "utf8"));
const PER_FAILURE = 3000;
for (const file of report.testResults) {
  const failed = file.assertionResults.filter((a) => a.status === "failed");
  // A file that failed outside any test (an import error, a failing beforeAll) has its message on the file.
  if (failed.length === 0 && file.status === "failed" && file.message)
    console.log(`\nFAILED ${file.name}\n${plain(file.message).slice(0, PER_FAILURE)}`);
  for (const a of failed) {
    const [message] = plain(a.failureMessages.join("\n")).split("\n    at ");
    console.log(`\nFAILED ${a.fullName}\n${message.slice(0, PER_FAILURE)}`);
  }
}
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
const inCI = process.env.CI === "true" || process.env.CI === "1";
if (report.numFailedTests > 0 || report.numTotalTests === 0 || !report.success) process.exit(1);
if (inCI && skipped > 0) {
  console.error(
    "CI: skipped tests are not allowed (a missing tool or service must be installed by .ci/setup)",
  );
  process.exit(1);
}
