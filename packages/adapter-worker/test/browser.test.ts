// The browser endpoints in real Chromium (Debian's /usr/bin/chromium driven by playwright-core): a
// page and its Web Worker, a SharedWorker, BroadcastChannel participants, Comlink beside psession,
// and an iframe on another origin. Pages, workers and frames are bundled from the sources with
// esbuild and served from 127.0.0.1 by this test. Skips, saying why, only when chromium is missing.
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available)
  console.log(
    `[@psession/worker browser test] skipped: ${CHROMIUM} is missing (scripts/ensure-chromium.sh installs it)`,
  );

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [here(entry)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
    alias: {
      psession: here("../../psession-core/src/index.ts"),
      "@psession/worker": here("../src/index.ts"),
    },
  });
  return result.outputFiles[0]!.text;
}

async function serve(files: Record<string, string>): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const body = files[path];
    res.writeHead(body === undefined ? 404 : 200, {
      "content-type": path.endsWith(".html") || path === "/" ? "text/html" : "text/javascript",
    });
    res.end(body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let browser: Browser;
let app: { server: Server; origin: string };
let other: { server: Server; origin: string };

beforeAll(async () => {
  if (!available) return;
  const [page, worker, shared, frame] = await Promise.all(
    ["./browser/page.ts", "./browser/worker.ts", "./browser/shared-worker.ts", "./browser/frame.ts"].map(bundle),
  );
  app = await serve({
    "/": `<!doctype html><script type="module" src="/page.js"></script>`,
    "/page.js": page!,
    "/worker.js": worker!,
    "/shared.js": shared!,
  });
  // Another origin (another port) for the iframe.
  other = await serve({
    "/frame.html": `<!doctype html><script type="module" src="/frame.js"></script>`,
    "/frame.js": frame!,
  });
  browser = await chromium.launch({
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
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const s of [app, other]) if (s) await new Promise((resolve) => s.server.close(resolve));
});

/** Runs scenario `name` in a fresh page; fails on any uncaught page error but the `expected` ones. */
async function run<T = Record<string, unknown>>(
  name: string,
  arg: Record<string, string> = {},
  expected?: RegExp,
): Promise<T> {
  const page: Page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => void pageErrors.push(e.message));
  try {
    await page.goto(`${app.origin}/`);
    await page.waitForFunction(() => typeof window.scenarios === "object");
    const args = { workerUrl: `${app.origin}/worker.js`, sharedUrl: `${app.origin}/shared.js`, ...arg };
    const result = await page.evaluate(([n, a]) => window.scenarios[n]!(a), [name, args] as const);
    expect(pageErrors.filter((e) => expected === undefined || !expected.test(e))).toEqual([]);
    return result as T;
  } finally {
    await page.close();
  }
}

interface Ended {
  name: string;
  abort: boolean;
  causeCode?: string;
  cause?: string;
  message: string;
  ms: number;
}

describe.skipIf(!available)("in Chromium", () => {
  test("a page and its Web Worker: both directions, dialogue, progress, errors; roles without asking", async () => {
    const r = await run("worker");
    expect(r.role).toBe("client");
    expect(r.echo).toMatchObject({ echo: 42, role: "server" });
    expect(r.first).toMatchObject({ status: "needPassword" });
    expect(r.second).toMatchObject({ status: "ok" });
    expect(r.steps).toEqual([1, 2, 3]);
    expect(r.progress).toMatchObject({ done: true });
    expect(r.failure).toEqual({
      isRemote: true,
      message: "light is broken",
      code: "E_BROKEN",
      remote: { name: "RangeError", message: "light is broken", code: "E_BROKEN", data: { bulb: 3 } },
    });
    expect(r.back).toMatchObject({ viaPage: { pageSaw: 7 } });
    expect(r.errors).toEqual([]);
    expect(r.live).toBe(0);
  });

  test("a worker that crashes mid-session ends the pending sessions at once (its error event)", async () => {
    const results = await run<Ended[]>("crash");
    for (const e of results) {
      expect(e).toMatchObject({ name: "SessionAbortError", abort: true, causeCode: "CLOSED" });
      expect(e.cause).toMatch(/the worker failed: .*boom in the worker/);
      expect(e.ms).toBeLessThan(5000);
    }
  });

  test('a window needs targetOrigin (and allowedOrigins with "*"); closeOnError: false keeps a worker whose code threw', async () => {
    // psession does not cancel the worker's error event: it still reaches the page as uncaught.
    const r = await run("options", {}, /^boom in the worker$/);
    expect(r.refused).toEqual([
      expect.stringMatching(/^TypeError: @psession\/worker: a window endpoint needs targetOrigin/),
      expect.stringMatching(/^TypeError: @psession\/worker: targetOrigin "\*" needs allowedOrigins/),
    ]);
    expect(r.crashed).toMatchObject({ name: "SessionTimeoutError" });
    expect(r.after).toMatchObject({ echo: "still here" });
    expect(r.errors).toEqual([
      expect.stringMatching(/^SessionChannelError\(CLOSED\): the worker failed: .*boom in the worker/),
    ]);
    expect(r.attachedAfter).toBe(false); // terminated at the end
  });

  test("terminate() through the handle ends the pending sessions at once", async () => {
    const results = await run<Ended[]>("terminate");
    expect(results).toHaveLength(3);
    for (const e of results) {
      expect(e).toMatchObject({ name: "SessionAbortError", causeCode: "CLOSED", cause: "the worker was terminated" });
    }
  });

  test("a 64 MiB ArrayBuffer is transferred (detached on the page) and comes back transferred", async () => {
    const r = await run("transfer");
    expect(r).toEqual({
      detachedAfterSend: 0,
      size: 64 * 1024 * 1024,
      first: 7,
      last: 9,
      backIsBuffer: true,
      backLength: 64 * 1024 * 1024,
      errors: [],
    });
  });

  test("Comlink on the same worker and psession on the same endpoint, and on a MessageChannel handed over through Comlink", async () => {
    const r = await run("comlink");
    expect(r.sums).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(r.echoes).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(r.connected).toBe("connected");
    expect(r.overChannel).toMatchObject({ overChannel: "hi" });
    expect(r.channelRole).toBe("client");
    expect(r.errors).toEqual([]);
    expect(r.secondErrors).toEqual([]);
  });

  test("a MessagePort whose other end dies (the worker terminated behind psession's back) ends its sessions", async () => {
    const r = await run<{ ok: unknown; ended: Ended }>("portHeartbeat");
    expect(r.ok).toMatchObject({ overChannel: 1 });
    expect(r.ended).toMatchObject({ name: "SessionAbortError" });
    // Chromium fires "close" on the port, or else the heartbeat notices: either way, well before the timeout.
    expect(r.ended.causeCode).toBe("HEARTBEAT_TIMEOUT"); // Chromium 156 fires no "close" on a MessagePort
    expect(r.ended.ms).toBeLessThan(5000);
    console.log(
      `[@psession/worker browser test] a dead MessagePort was noticed by ${r.ended.causeCode} after ${r.ended.ms} ms`,
    );
  });

  test("an iframe on another origin: sessions with targetOrigin, and a removed frame ends its sessions", async () => {
    const r = await run("frame", {
      frameUrl: `${other.origin}/frame.html?parent=${encodeURIComponent(app.origin)}`,
      frameOrigin: other.origin,
    });
    expect(r.role).toBe("client");
    expect(r.reply).toMatchObject({ frame: other.origin, role: "server", got: 5 });
    expect(r.removed).toMatchObject({ name: "SessionAbortError", causeCode: "CLOSED" });
    expect((r.removed as Ended).cause).toMatch(/window was closed or its frame removed/);
    expect(r.errors).toEqual([]);
  });

  test("a frame's message from an origin not allowed is reported and dropped", async () => {
    const r = await run("frameWrongOrigin", {
      frameUrl: `${other.origin}/frame.html?parent=${encodeURIComponent(app.origin)}`,
      allowedOrigin: "http://127.0.0.1:1",
    });
    expect(r.result).toMatchObject({ name: "SessionTimeoutError" });
    expect(r.seen).toEqual([]);
    expect(r.live).toBe(0);
    const errors = r.errors as string[];
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors)
      expect(e).toMatch(
        new RegExp(
          `^SessionChannelError\\(REFUSED\\): a message from origin "${other.origin}" is not in allowedOrigins`,
        ),
      );
  });

  test("a SharedWorker: each connecting page is its own port; a real messageerror is reported there", async () => {
    const r = await run("shared");
    expect(r.roles).toEqual(["client", "client"]);
    const hellos = r.hellos as { port: string; role: string; back: { iam: string; got: string } }[];
    expect(new Set(hellos.map((h) => h.port)).size).toBe(2);
    for (const h of hellos) expect(h).toMatchObject({ role: "server", back: { got: "who-are-you" } });
    expect(r.count).toMatchObject({ connections: 2 });
    expect(r.afterClose).toMatchObject({ connections: 1 });
    expect(r.lost).toMatchObject({ name: "SessionTimeoutError" });
    const decodeErrors = (r.decodeErrors as { decodeErrors: string[] }).decodeErrors;
    expect(decodeErrors).toHaveLength(1);
    expect(decodeErrors[0]).toMatch(/could not be deserialized \(messageerror\)/);
    expect(r.errors).toEqual([[], []]);
  });

  test("BroadcastChannel participants in two workers: sessions by name never misroute", async () => {
    const r = await run("broadcast");
    const replies = r.replies as [string, string, number, string][];
    expect(replies).toHaveLength(60);
    for (const [n, [to, me, got, from]] of replies.entries()) {
      expect(me).toBe(to);
      expect(got).toBe(n);
      expect(from).toBe("page");
    }
    expect(r.dialogues).toMatchObject([
      { me: "w1", answer: "w1:0" },
      { me: "w2", answer: "w2:1" },
    ]);
    expect(r.errors).toEqual([]);
  });
});
