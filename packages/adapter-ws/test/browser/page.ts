// Runs inside Chromium, bundled by esbuild from the sources: a browser WebSocket attached with the
// same `attach()` a Node client uses. Results go back to the test as plain data.
import { attach, whenOpen, type Serializer } from "@psession/ws";
import { SessionManager, type Port } from "psession";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** JSON in binary frames: exercises the ArrayBuffer path of the browser socket. */
const binaryJson: Serializer = {
  encode: (message) => encoder.encode(JSON.stringify(message)),
  decode(data) {
    if (typeof data === "string") throw new TypeError("text frame, binary JSON expected");
    return JSON.parse(decoder.decode(data));
  },
};

const failure = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : `non-error ${String(e)}`);
const until = async (check: () => boolean) => {
  const end = Date.now() + 3000;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
};

async function run(jsonUrl: string, binaryUrl: string) {
  const manager = new SessionManager({ sessionTimeout: 5000 });
  const errors: string[] = [];
  const messages: unknown[] = [];
  manager.on("error", (e, port) => void errors.push(`${port?.name}: ${e.message}`));
  manager.on("message", (m) => void messages.push(m));
  manager.handle((m) => ({ fromBrowser: m.n * 2 }));

  const ws = new WebSocket(jsonUrl);
  const port: Port = attach(manager, ws);
  // Sent while the socket is still connecting: it waits for the open.
  const connectingAtSend = ws.readyState === WebSocket.CONNECTING;
  const beforeOpen = await port.request({ n: 0 }).catch(failure);
  await whenOpen(ws);

  const reply = await port.request({ n: 21 });
  // A browser socket cannot count bytes: the transport has no counters, the stats say undefined.
  const stats = port.stats();
  const bytesCounted = stats.bytesSent !== undefined || stats.bytesReceived !== undefined;
  const session = manager.createSession();
  const step1 = await session.send({ dialogue: "start" });
  const step2 = await session.send({ answer: 42 });
  session.end();

  // Ask the server to open sessions towards us; it reports the outcome as a plain message.
  ws.send(JSON.stringify({ type: "callMe", count: 20 }));
  await until(() => messages.length > 0);

  // Hostile frames from the server: reported here, the socket survives.
  ws.send(JSON.stringify({ type: "sendGarbage" }));
  await until(() => errors.length >= 2);
  const afterGarbage = await port.request({ n: 1 });

  // The server drops us mid-session: the pending request aborts at once, not at its timeout.
  const t0 = performance.now();
  const aborted = await port.request({ hang: true }, { timeout: 60_000 }).then(() => "resolved", failure);
  const abortMs = performance.now() - t0;
  const afterClose = await port.request({ n: 2 }).then(() => "resolved", failure);

  // A binary codec over a second socket (port "bin").
  const bin = new WebSocket(binaryUrl);
  const binPort = attach(manager, bin, { port: "bin", serializer: binaryJson });
  await whenOpen(bin);
  const binaryReply = await binPort.request({ n: 50 });
  bin.close();

  return {
    connectingAtSend,
    beforeOpen,
    reply,
    bytesCounted,
    step1,
    step2,
    messages,
    errors,
    afterGarbage,
    aborted,
    abortMs,
    afterClose,
    binaryReply,
    binaryType: bin.binaryType,
    live: manager.size,
  };
}

(globalThis as unknown as { run: typeof run }).run = run;
