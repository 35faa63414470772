// `pnpm bench [suite...]`: runs bench/run.ts under tsx with bench/tsconfig.dist.json, so psession
// and the adapters resolve to their built dist (what users run), after `turbo run build`.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const config = fileURLToPath(new URL("./tsconfig.dist.json", import.meta.url));
const run = fileURLToPath(new URL("./run.ts", import.meta.url));
const result = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", run, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, TSX_TSCONFIG_PATH: config },
});
process.exit(result.status ?? 1);
