// The core in real Chromium: a page and a Web Worker (the Chinese README's setting), bundled from
// the sources with esbuild and served from 127.0.0.1. Skips, saying why, when chromium is missing.
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) console.log(`browser.test: skipped, ${CHROMIUM} is missing (run scripts/ensure-chromium.sh)`);

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  if (!available) return;
  const bundle = async (entry: string) =>
    (
      await build({
        entryPoints: [here(entry)],
        bundle: true,
        format: "esm",
        write: false,
        platform: "browser",
        alias: { psession: here("../src/index.ts") },
      })
    ).outputFiles[0]!.text;
  const files: Record<string, string> = {
    "/page.js": await bundle("./browser/page.ts"),
    "/worker.js": await bundle("./browser/worker.ts"),
    "/": `<!doctype html><script type="module" src="/page.js"></script>`,
  };
  server = createServer((req, res) => {
    const body = files[req.url ?? ""];
    res.writeHead(body === undefined ? 404 : 200, {
      "content-type": req.url === "/" ? "text/html" : "text/javascript",
    });
    res.end(body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

test.skipIf(!available)(
  "a page and a Web Worker hold sessions in Chromium",
  async () => {
    const page = await browser.newPage();
    try {
      await page.goto(origin);
      await page.waitForFunction(() => typeof window.runDialogue === "function");
      const result = await page.evaluate((url) => window.runDialogue(url), `${origin}/worker.js`);
      expect(result).toEqual({
        // $re: the turn each answer belongs to (docs/protocol.md).
        once: { type: "response", payload: 100, sid: 1, $re: 1 },
        first: { status: "needPassword", sid: 2, $re: 2 },
        second: { status: "ok", sid: 2, $re: 3 },
        timedOut: true,
        live: 0,
      });
    } finally {
      await page.close();
    }
  },
  60_000,
);
