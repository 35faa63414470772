import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the sources, so a change is tested without a build; `pnpm test` also
// builds and lints the published packages.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^psession$/, replacement: src("./packages/psession-core/src/index.ts") },
      { find: /^@psession\/conformance$/, replacement: src("./packages/conformance/src/index.ts") },
      // Every other @psession/<name> is packages/adapter-<name>: a new adapter needs no entry here.
      { find: /^@psession\/([a-z0-9-]+)$/, replacement: src("./packages/adapter-$1/src/index.ts") },
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
  },
});
