// The root README's code blocks, run as written against a local server, so the README cannot
// drift from what the packages do. Every ```ts block is extracted verbatim; the one substitution is
// the server URL (`ws://lamp.local:8080` → the local server on 127.0.0.1 port 0). An export line
// is appended to each block so that its results can be checked: every `// → { … }` comment must
// be contained in the value it is written next to.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { attach } from "@psession/ws";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, startServer, teardown } from "./helpers.js";

afterEach(teardown);

const README = fileURLToPath(new URL("../../../README.md", import.meta.url));
const README_URL = "ws://lamp.local:8080";

/** The ```ts blocks of the README, verbatim. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:ts|typescript|js|javascript)\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
}

/** `const name = …; // → { … }` lines: the value each named result must contain. */
function expectations(block: string): Map<string, unknown> {
  const expected = new Map<string, unknown>();
  for (const line of block.split("\n")) {
    const m = /^\s*(?:const|let)\s+(\w+)\s*=.*\/\/\s*→\s*(\{.*\})\s*$/.exec(line);
    if (m !== null) expected.set(m[1]!, new Function(`return (${m[2]});`)());
  }
  return expected;
}

/** Every top-level `const`/`let` name of a block, for the export line. */
function topLevelNames(block: string): string[] {
  return [...block.matchAll(/^(?:const|let)\s+(\w+)/gm)].map((m) => m[1]!);
}

test("the README's TypeScript blocks run as written (only the URL substituted) and give what their comments say", async () => {
  const blocks = codeBlocks(readFileSync(README, "utf8"));
  expect(blocks.length).toBeGreaterThan(0);

  // The lamp: a psession server holding the README's dialogue.
  const { wss, url } = await startServer();
  const lamp = manager();
  attach<WebSocket>(lamp, wss);
  lamp.handle(async (request, session) => {
    if (request.command !== "turnOnLight") return { status: "unknown command" };
    const answer = await session.send({ status: "needPassword" });
    return { status: answer.password === "123456" ? "ok" : "denied" };
  });

  // Next to this test, so that the block's bare imports ("ws", "psession", …) resolve as in a project.
  const dir = mkdtempSync(join(fileURLToPath(new URL(".", import.meta.url)), ".readme-"));
  try {
    for (const [i, block] of blocks.entries()) {
      expect(block).toContain(README_URL);
      const names = topLevelNames(block);
      const file = join(dir, `block-${i}.ts`);
      writeFileSync(file, `${block.replaceAll(README_URL, url)}\nexport { ${names.join(", ")} };\n`);
      const results = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const expected = expectations(block);
      expect(expected.size).toBeGreaterThan(0);
      for (const [name, value] of expected) expect(results[name], name).toMatchObject(value as object);
      // Tidy up what the block opened.
      (results.manager as { clear?: () => void } | undefined)?.clear?.();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(lamp.errors).toEqual([]);
  expect(lamp.size).toBe(0);
});
