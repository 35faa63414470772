// Every ```ts block of this package's README runs as written: each block becomes a module of its
// own (nothing added, nothing changed) and is imported; what it prints is checked.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, expect, test, vi } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, "..", "README.md"), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = join(here, `.readme-run-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(index: number): Promise<unknown[][]> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `block-${index}.ts`);
  writeFileSync(file, blocks[index]!);
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args));
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    log.mockRestore();
  }
  return printed;
}

test("the README has the four runnable blocks this test knows", () => {
  expect(blocks).toHaveLength(4);
  expect(blocks[0]).toMatch(/lamp\.handle/);
  expect(blocks[1]).toMatch(/new MessageChannel\(\)/);
  expect(blocks[2]).toMatch(/port\.stats\(\)/);
  expect(blocks[3]).toMatch(/manager\.sessions\(/);
});

test("the dialogue example, as written", async () => {
  expect(await run(0)).toEqual([["ok"]]);
});

test("the hand-wired example, as written", async () => {
  expect(await run(1)).toEqual([[{ sid: 1, pong: true }]]);
});

test("the statistics example, as written", async () => {
  expect(await run(2)).toEqual([
    ["lamp-1: new → attached"],
    ["attached", 3, 2, 1, 3],
    ["lamp-1: attached → destroyed"],
    [{ attached: 0, detached: 1, destroyed: 1 }],
  ]);
});

test("the listing example, as written", async () => {
  expect(await run(3)).toEqual([[5, ["2:waiting:1", "3:waiting:1"]], [[["default", "attached", 6, 5]]]]);
});
