// Every ```ts block of the README, run as written: the Node blocks with a real worker thread, the
// browser blocks (page and worker, Comlink beside psession) in Chromium. Worker blocks are bundled
// with esbuild under the file name their page block gives them; page output is read from console.log.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, test, vi } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, "..", "README.md"), "utf8");
/** Each block by the file its first line names: "// main.ts (the page)" → "main.ts (the page)". */
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => {
  const source = m[1]!;
  return { name: /^\/\/ (.*)$/m.exec(source)![1]!, source };
});
const block = (name: string) => blocks.find((b) => b.name === name)!.source;

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`[@psession/worker README test] browser blocks skipped: ${CHROMIUM} is missing`);

const dir = join(here, `.readme-run-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(source: string, format: "esm" | "cjs", platform: "browser" | "node"): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir: here, loader: "ts", sourcefile: "block.ts" },
    bundle: true,
    format,
    platform,
    target: "es2022",
    write: false,
    logLevel: "silent",
    alias: {
      psession: join(here, "../../psession-core/src/index.ts"),
      "@psession/worker": join(here, "../src/index.ts"),
    },
  });
  return result.outputFiles[0]!.text;
}

test("the README has the blocks this test runs", () => {
  expect(blocks.map((b) => b.name)).toEqual([
    "main.ts (the page)",
    "worker.ts",
    "main.ts",
    "invert.ts, built to invert.js",
    "comlink-worker.ts",
    "comlink-main.ts (the page)",
  ]);
});

test("Node: transfers, progress, and a crash that ends the pending call at once", async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "invert.js"), await bundle(block("invert.ts, built to invert.js"), "esm", "node"));
  const main = join(dir, "main.ts");
  writeFileSync(main, block("main.ts"));
  const logs: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void logs.push(args.join(" ")));
  try {
    const started = Date.now();
    await import(/* @vite-ignore */ pathToFileURL(main).href);
    expect(logs).toEqual(["0%", "25%", "50%", "75%", "0 4194304", "true"]);
    expect(Date.now() - started).toBeLessThan(20_000); // the crash did not wait for the 30 s timeout
  } finally {
    log.mockRestore();
  }
});

describe.skipIf(!hasChromium)("browser blocks in Chromium", () => {
  let server: Server;
  let origin: string;

  afterAll(async () => {
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  async function pageLogs(entry: string, expected: number): Promise<string[]> {
    if (server === undefined) {
      const files: Record<string, string> = {
        "/main.js": await bundle(block("main.ts (the page)"), "esm", "browser"),
        "/worker.ts": await bundle(block("worker.ts"), "esm", "browser"),
        "/comlink-main.js": await bundle(block("comlink-main.ts (the page)"), "esm", "browser"),
        "/comlink-worker.ts": await bundle(block("comlink-worker.ts"), "esm", "browser"),
      };
      server = createServer((req, res) => {
        const url = req.url ?? "/";
        const page = /^\/page\/(.+)$/.exec(url);
        if (page) {
          res.writeHead(200, { "content-type": "text/html" });
          res.end(`<!doctype html><script type="module" src="/${page[1]}"></script>`);
          return;
        }
        const body = files[url];
        res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/javascript" });
        res.end(body ?? "");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage();
      const logs: string[] = [];
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "log") logs.push(message.text());
      });
      page.on("pageerror", (error) => void errors.push(error.message));
      await page.goto(`${origin}/page/${entry}`);
      const end = Date.now() + 15_000;
      while (logs.length < expected && errors.length === 0 && Date.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      expect(errors).toEqual([]);
      return logs;
    } finally {
      await browser.close();
    }
  }

  test("a page and its worker: a two-turn dialogue", async () => {
    expect(await pageLogs("main.js", 2)).toEqual(["needPassword", "ok"]);
  }, 30_000);

  test("Comlink side by side: a Comlink call and a psession session with progress on one worker", async () => {
    expect(await pageLogs("comlink-main.js", 5)).toEqual(["3", "step 1", "step 2", "step 3", "6"]);
  }, 30_000);
});
