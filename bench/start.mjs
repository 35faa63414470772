// `pnpm bench [suite...]`: runs bench/run.ts under tsx with bench/tsconfig.dist.json, so psession
// and the adapters resolve to their built dist (what users run), after `turbo run build`.
// Each suite runs in a Node process of its own (as JMH forks per benchmark): code shared by the
// suites (psession's core, MQTT.js) otherwise carries one suite's type feedback into the next.
// Measured: 20,000 sequential MQTT calls through psession earlier in the same process lowered the
// fan-out's psession-against-raw ratio by about 4 points (docs/benchmarks.md, run of 09:03 UTC).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const config = fileURLToPath(new URL("./tsconfig.dist.json", import.meta.url));
const run = fileURLToPath(new URL("./run.ts", import.meta.url));
const dir = fileURLToPath(new URL(".", import.meta.url));
const wanted = process.argv.slice(2);
// `mqtt` names mqtt.bench.ts and every mqtt-*.bench.ts.
const suites = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.slice(0, -".bench.ts".length))
  .filter((name) => wanted.length === 0 || wanted.some((w) => name === w || name.startsWith(`${w}-`)))
  .sort();
if (suites.length === 0) {
  console.error(`no bench suite named ${wanted.join(", ")}`);
  process.exit(1);
}
for (const [i, suite] of suites.entries()) {
  const args = ["--expose-gc", "--import", "tsx", run, suite, ...(i > 0 ? ["--no-header"] : [])];
  const result = spawnSync(process.execPath, args, {
    stdio: "inherit",
    env: { ...process.env, TSX_TSCONFIG_PATH: config },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
