// Runs the bench/<name>.bench.ts suites named on the command line and prints their tables.
// `pnpm bench` (start.mjs) finds the suites and calls this once per suite, each in a process of its own.
import os from "node:os";
import { printTable, type Suite } from "./harness.js";

// `--no-header`: the machine line was printed already (start.mjs, for the suites after the first).
const header = !process.argv.includes("--no-header");
const suites = process.argv.slice(2).filter((a) => a !== "--no-header");

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
if (header) {
  console.log(`psession benchmarks — ${new Date().toISOString().slice(0, 10)}`);
  console.log(
    `machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`,
  );
  console.log(`code: ${import.meta.resolve("psession")} (the built packages, as users run them)`);
  if (typeof (globalThis as { gc?: unknown }).gc !== "function")
    console.log("(heap figures need --expose-gc; `pnpm bench` passes it)");
}

for (const name of suites) {
  const mod = (await import(`./${name}.bench.ts`)) as { default: Suite };
  console.log(`\n## ${name}`);
  for (const table of await mod.default()) printTable(table);
}
process.exit(0);
