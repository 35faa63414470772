// A worker thread that answers the parent with psession: the fixture of most Node tests.
// workerData.mode picks how it is reached: "parent" (parentPort), "port" (a MessagePort it is given).
import { parentPort, workerData } from "node:worker_threads";
import { attach, transfer, type EndpointHandle } from "@psession/worker";
import { SessionManager } from "psession";

const manager = new SessionManager({ sessionTimeout: 10_000 });
let handle: EndpointHandle | undefined;
const options = (workerData?.options ?? {}) as Record<string, unknown>;

if (workerData?.mode === "port") {
  handle = attach(manager, workerData.port, options);
} else {
  handle = attach(manager, parentPort!, options);
}

/** A plain message to the parent, beside psession. */
const tell = (what: Record<string, unknown>) => parentPort!.postMessage({ fromWorker: true, ...what });

manager.handle(async (m, session) => {
  switch (m.op) {
    case "echo":
      return { echo: m.value };
    case "role":
      return { role: handle!.role, portRole: handle!.port.role };
    case "dialogue": {
      const answer = await session.send({ status: "needPassword" });
      return { status: answer.password === "123456" ? "ok" : "denied" };
    }
    case "progress":
      for (let step = 1; step <= 3; step++) session.progress({ step });
      return { done: true };
    case "fail": {
      const error = new TypeError("light is broken") as TypeError & { code: string; data: unknown };
      error.code = "E_BROKEN";
      error.data = { bulb: 3, tried: ["on", "off"] };
      throw error;
    }
    case "fail-rich": {
      const error = new Error("bad reading") as Error & { data: unknown };
      error.data = { at: new Date(0), readings: new Map([["t", 21.5]]), raw: new Uint8Array([1, 2]) };
      throw error;
    }
    case "fail-cause":
      throw new Error("could not save", { cause: new TypeError("disk is read-only") });
    case "ask-parent":
      // The other direction on the same channel: the worker opens a session toward the parent.
      return { viaParent: await manager.request(handle!.port.name, { op: "parent-echo", value: m.value }) };
    case "wait-cancel":
      await new Promise<void>((resolve) => session.signal.addEventListener("abort", () => resolve()));
      tell({ cancelled: m.tag, reason: String((session.signal.reason as Error)?.name) });
      return new Promise(() => {});
    case "hang":
      tell({ hanging: m.tag });
      return new Promise(() => {});
    case "crash":
      setTimeout(() => {
        throw new Error("boom in the worker");
      }, 20);
      return new Promise(() => {});
    case "exit":
      setTimeout(() => process.exit(3), 20);
      return new Promise(() => {});
    case "busy": {
      // Stuck, not dead: no message is read while this runs.
      setTimeout(() => {
        const end = Date.now() + m.ms;
        while (Date.now() < end) {}
      }, 10);
      return new Promise(() => {});
    }
    case "close-psession":
      setTimeout(() => handle!.close(), 20);
      return new Promise(() => {});
    case "buffer": {
      const buffer = m.buffer as ArrayBuffer;
      const view = new Uint8Array(buffer);
      const reply = { size: buffer.byteLength, first: view[0], last: view[view.length - 1], buffer };
      return m.back === "transfer" ? transfer(reply, [buffer]) : reply;
    }
    case "buffer-post": {
      // The answer posted with the core's { transfer }, then the session ended: the handler's
      // return value (nothing) is not sent.
      const buffer = m.buffer as ArrayBuffer;
      session.post({ size: buffer.byteLength, buffer }, { transfer: [buffer] });
      tell({ detachedInWorker: buffer.byteLength });
      session.end();
      return undefined;
    }
    case "plain":
      tell({ plain: m.value });
      return {};
    default:
      throw new Error(`unknown op ${String(m.op)}`);
  }
});
// Crashes on a plain message too, for a crash after psession let go.
parentPort!.on("message", (v) => {
  if (v?.crashNow)
    setTimeout(() => {
      throw new Error("late boom");
    });
});
tell({ ready: true });
