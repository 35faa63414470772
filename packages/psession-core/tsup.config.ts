import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  // Members marked @internal stay out of the published types (test/published-types.test.ts).
  dts: { compilerOptions: { stripInternal: true } },
  clean: true,
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
});
