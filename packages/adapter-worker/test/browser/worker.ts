// A Web Worker in Chromium. By its name: "responder" answers the page with psession on `self`
// (Comlink exposes an API on the same endpoint); "bc:<name>" is a BroadcastChannel participant.
import { attach, transfer } from "@psession/worker";
import * as Comlink from "comlink";
import { SessionManager } from "psession";

declare const self: {
  name: string;
  postMessage(message: unknown): void;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  removeEventListener(type: string, listener: (event: MessageEvent) => void): void;
  importScripts(...urls: string[]): void;
};

const manager = new SessionManager({ sessionTimeout: 10_000 });

if (self.name.startsWith("bc:")) {
  const me = self.name.slice(3);
  const channel = new BroadcastChannel("room");
  attach(manager, channel, { name: me });
  manager.handle(async (m, session) => {
    if (m.op === "dialogue") {
      const next = await session.send({ question: `${me}:${m.n}` });
      return { me, n: m.n, answer: next.answer };
    }
    return { me, n: m.n, from: m.$from };
  });
  self.postMessage({ ready: me });
} else {
  const handle = attach(manager, self);
  const overChannel = new SessionManager();
  overChannel.handle((m) => (m.neverAnswered ? new Promise(() => {}) : { overChannel: m.value }));
  manager.handle(async (m, session) => {
    switch (m.op) {
      case "echo":
        return { echo: m.value, role: handle.role };
      case "dialogue": {
        const answer = await session.send({ status: "needPassword" });
        return { status: answer.password === "123456" ? "ok" : "denied" };
      }
      case "progress":
        for (let step = 1; step <= 3; step++) session.progress({ step });
        return { done: true };
      case "fail": {
        const error = new RangeError("light is broken") as RangeError & { code: string; data: unknown };
        error.code = "E_BROKEN";
        error.data = { bulb: 3 };
        throw error;
      }
      case "ask-page":
        return { viaPage: await manager.request({ op: "page-echo", value: m.value }) };
      case "hang":
        return new Promise(() => {});
      case "crash":
        setTimeout(() => {
          throw new Error("boom in the worker");
        }, 20);
        return new Promise(() => {});
      case "buffer": {
        const buffer = m.buffer as ArrayBuffer;
        const view = new Uint8Array(buffer);
        return transfer({ size: buffer.byteLength, first: view[0], last: view[view.length - 1], buffer }, [buffer]);
      }
      default:
        throw new Error(`unknown op ${String(m.op)}`);
    }
  });
  Comlink.expose(
    {
      add: (a: number, b: number) => a + b,
      connect(port: MessagePort) {
        attach(overChannel, port);
        return "connected";
      },
    },
    self as never,
  );
  self.postMessage({ ready: "responder" });
}
