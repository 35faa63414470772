#!/usr/bin/env node
// `pnpm test`: every check the project has, in one command that works on a fresh machine.
//   services (chromium, mosquitto, redis-server) → build + typecheck → lint (biome) → vitest → publint + attw
// Ends with a plain "N passed, N failed, N skipped" line. Under CI (CI=true) a test skipped for a
// missing service fails the run, so CI never reports a skipped test as passing.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";

const run = (cmd, args, opts = {}) => {
  console.log(`\n$ ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", ...opts });
  return r.status ?? 1;
};
const fail = (what) => {
  console.error(`\ntest: ${what} failed`);
  process.exit(1);
};

run("sh", ["scripts/ensure-services.sh"]);
if (run("pnpm", ["-s", "turbo", "run", "build", "typecheck", "--output-logs=errors-only"]) !== 0)
  fail("build/typecheck");
if (run("pnpm", ["-s", "exec", "tsc", "--noEmit", "-p", "tsconfig.json"]) !== 0)
  fail("typecheck of tests, examples and benches");
if (run("pnpm", ["-s", "lint"]) !== 0) fail("lint and format check (biome; `pnpm format` fixes the formatting)");

mkdirSync(".tmp", { recursive: true });
const vitest = run("pnpm", [
  "-s",
  "exec",
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  "--outputFile.json=.tmp/vitest.json",
]);
let passed = 0,
  failed = 0,
  skipped = 0;
const skippedNames = [];
try {
  const report = JSON.parse(readFileSync(".tmp/vitest.json", "utf8"));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
  for (const file of report.testResults)
    for (const t of file.assertionResults)
      if (t.status === "skipped" || t.status === "pending") skippedNames.push(t.fullName);
} catch {
  failed = Math.max(failed, 1);
}
const lint = run("pnpm", ["-s", "turbo", "run", "lint:pkg", "--output-logs=errors-only"]);

if (skippedNames.length) console.log(`\nskipped:\n  ${skippedNames.join("\n  ")}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
if (vitest !== 0 || failed > 0) fail("vitest");
if (lint !== 0) fail("publint / attw");
if (process.env.CI && skipped > 0) fail(`CI: ${skipped} test(s) skipped`);
