// The browser WebSocket code path, in real Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; `scripts/ensure-chromium.sh` installs it), against servers this test starts.
import { existsSync } from "node:fs";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { attach, type Serializer } from "@psession/ws";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import type { Port } from "psession";
import { WebSocketServer, type WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { manager } from "./helpers.js";

const CHROMIUM = process.env.PSESSION_CHROMIUM ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `[@psession/ws browser test] SKIPPED: ${CHROMIUM} not found; run scripts/ensure-chromium.sh (as root) to install Debian's chromium`,
  );
}

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const binaryJson: Serializer = {
  encode: (message) => Buffer.from(JSON.stringify(message)),
  decode(data) {
    if (typeof data === "string") throw new TypeError("text frame, binary JSON expected");
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString());
  },
};

describe.skipIf(!hasChromium)("browser WebSocket in Chromium", () => {
  let browser: Browser | undefined;
  let http: Server;
  let binWss: WebSocketServer;
  let wss: WebSocketServer;
  let origin: string;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [src("./browser/page.ts")],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: "es2022",
      alias: {
        psession: src("../../psession-core/src/index.ts"),
        "@psession/ws": src("../src/index.ts"),
      },
    });
    const script = bundle.outputFiles[0]!.text;
    http = createServer((req, res) => {
      if (req.url === "/page.js") {
        res.writeHead(200, { "content-type": "text/javascript" }).end(script);
      } else {
        res
          .writeHead(200, { "content-type": "text/html" })
          .end('<!doctype html><script type="module" src="/page.js"></script>');
      }
    });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    origin = `127.0.0.1:${(http.address() as AddressInfo).port}`;
    wss = new WebSocketServer({ server: http });
    binWss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(binWss, "listening");
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
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of [wss, binWss]) {
      if (!s) continue;
      for (const client of s.clients) client.terminate();
      await new Promise((r) => s.close(r));
    }
    if (http) await new Promise((r) => http.close(r));
  });

  test("attach(manager, new WebSocket(url)) in the browser: both directions, multi-turn, bad frames, abort on close, binary codec", async () => {
    const server = manager();
    const handle = attach<WebSocket>(server, wss);
    const binHandle = attach<WebSocket>(server, binWss, { serializer: binaryJson });
    const socketOf = (port: Port) => [...handle.ports].find(([, p]) => p === port)![0];
    server.handle(async (m, session) => {
      if (m.hang) {
        socketOf(server.ports.get(session.port)!).terminate();
        return new Promise(() => {});
      }
      if (m.dialogue) {
        const next = await session.send({ question: "the answer?" });
        return { verdict: next.answer === 42 ? "right" : "wrong" };
      }
      return { doubled: m.n * 2, binary: binHandle.ports.size > 0 };
    });
    server.on("message", async (raw: unknown, port: Port) => {
      const m = raw as { type?: string; count?: number };
      const socket = socketOf(port);
      if (m.type === "callMe") {
        const replies = await Promise.all(Array.from({ length: m.count! }, (_, n) => port.request({ n })));
        socket.send(JSON.stringify({ type: "called", values: replies.map((r) => r.fromBrowser) }));
      } else if (m.type === "sendGarbage") {
        socket.send("{ definitely not json");
        socket.send(Buffer.from([1, 2, 3])); // binary frame for a JSON client
      }
    });

    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => void pageErrors.push(e.message));
    await page.goto(`http://${origin}/`);
    await page.waitForFunction(() => typeof (globalThis as { run?: unknown }).run === "function");
    const binUrl = `ws://127.0.0.1:${(binWss.address() as AddressInfo).port}`;
    const result = await page.evaluate(
      ([json, bin]) =>
        (globalThis as unknown as { run(a: string, b: string): Promise<Record<string, unknown>> }).run(json, bin),
      [`ws://${origin}/`, binUrl] as const,
    );
    await page.close();

    expect(result.connectingAtSend).toBe(true);
    expect(result.beforeOpen).toMatchObject({ doubled: 0 });
    expect(result.reply).toMatchObject({ doubled: 42 });
    expect(result.bytesCounted).toBe(false);
    expect(result.step1).toMatchObject({ question: "the answer?" });
    expect(result.step2).toMatchObject({ verdict: "right" });
    expect(result.messages).toEqual([{ type: "called", values: Array.from({ length: 20 }, (_, n) => n * 2) }]);
    const errors = result.errors as string[];
    expect(errors, JSON.stringify(errors)).toHaveLength(2);
    expect(errors[0]).toMatch(/^default: .*text frame dropped: the serializer could not decode it/);
    expect(errors[1]).toMatch(/^default: .*binary frame dropped: .*JSON serializer expects text frames/);
    expect(result.afterGarbage).toMatchObject({ doubled: 2 });
    expect(result.aborted).toMatch(/^SessionAbortError: port "default": connection closed/);
    expect(result.abortMs as number).toBeLessThan(1000);
    expect(result.afterClose).toMatch(/^SessionSendError: port "default" has no transport attached/);
    expect(result.binaryReply).toMatchObject({ doubled: 100, binary: true });
    expect(result.binaryType).toBe("arraybuffer");
    expect(result.live).toBe(0);
    expect(pageErrors).toEqual([]);
    handle.close();
    binHandle.close();
  });
});
