// The published types: the package is built with its own tsup config and package.json, then a small
// consumer (fixtures/published-types/consumer.ts) is compiled against it with the TypeScript compiler
// API, strict and with skipLibCheck: false, through import, require and bundler resolution, for Node
// and for browsers. The .d.ts must expose no internals.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const core = fileURLToPath(new URL("..", import.meta.url));
const root = join(core, "..", "..");
const consumer = readFileSync(new URL("./fixtures/published-types/consumer.ts", import.meta.url), "utf8");

// Declarations that must never reach a user's autocomplete.
const INTERNALS = ["_queue", "_sender", "TimerQueue", "SidTable", "SessionExtras", "TimerNode", "@internal"];

let tmp = "";
let dist = "";

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "psession-types-"));
  // An installed copy: node_modules/psession with the real package.json (its exports map) and a
  // fresh build. Built to a temporary folder so that no one else's dist/ changes under them.
  const pkg = join(tmp, "node_modules", "psession");
  dist = join(pkg, "dist");
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(core, "package.json"), join(pkg, "package.json"));
  const build = spawnSync(join(root, "node_modules", ".bin", "tsup"), ["--out-dir", dist], {
    cwd: core,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (build.status !== 0) throw new Error(`tsup failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
}, 130_000);

afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

test("the published .d.ts files expose no internal member or type", () => {
  for (const file of ["index.d.ts", "index.d.cts"]) {
    const dts = readFileSync(join(dist, file), "utf8");
    expect(dts).toContain("declare class SessionManager");
    const found = INTERNALS.filter((name) => dts.includes(name));
    expect(found, `internals in ${file}`).toEqual([]);
  }
});

type Resolution = "import" | "require" | "bundler";
const setups: Record<Resolution, { file: string; declarations: string; options: ts.CompilerOptions }> = {
  import: {
    file: "consumer.mts",
    declarations: "index.d.ts",
    options: { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 },
  },
  require: {
    file: "consumer.cts",
    declarations: "index.d.cts",
    options: { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 },
  },
  bundler: {
    file: "consumer.ts",
    declarations: "index.d.ts",
    options: { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler },
  },
};
const environments = {
  node: { lib: ["lib.es2022.d.ts"], types: ["node"], typeRoots: [join(root, "node_modules", "@types")] },
  browser: { lib: ["lib.es2022.d.ts", "lib.dom.d.ts"], types: [] },
} satisfies Record<string, ts.CompilerOptions>;

describe.each(Object.keys(setups) as Resolution[])("a strict consumer with skipLibCheck: false (%s)", (resolution) => {
  test.each(Object.keys(environments) as (keyof typeof environments)[])("compiles for %s", (environment) => {
    const setup = setups[resolution];
    const dir = join(tmp, `${resolution}-${environment}`);
    mkdirSync(dir, { recursive: true });
    const entry = join(dir, setup.file);
    writeFileSync(entry, consumer);
    const program = ts.createProgram([entry], {
      ...setup.options,
      ...environments[environment],
      target: ts.ScriptTarget.ES2022,
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
    });
    // The exports map chose the declarations for this condition.
    const used = program.getSourceFiles().map((f) => f.fileName);
    expect(used).toContain(join(dist, setup.declarations).replaceAll("\\", "/"));
    const diagnostics = ts.getPreEmitDiagnostics(program);
    const text = ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => dir,
      getNewLine: () => "\n",
    });
    expect(text).toBe("");
  });
});
