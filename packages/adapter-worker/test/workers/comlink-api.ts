// A worker that already exposes an API with Comlink, and runs psession beside it: on the same
// endpoint, and on a MessageChannel the page hands over through Comlink.
import { parentPort } from "node:worker_threads";
import { attach } from "@psession/worker";
import * as Comlink from "comlink";
import nodeEndpoint from "comlink/dist/umd/node-adapter.js";
import { SessionManager } from "psession";

const sameEndpoint = new SessionManager();
sameEndpoint.handle(async (m, session) => {
  if (m.op === "hang") return new Promise(() => {});
  if (m.op === "count") {
    for (let i = 1; i <= m.to; i++) session.progress({ at: i });
    return { counted: m.to };
  }
  return { doubled: m.value * 2 };
});
attach(sameEndpoint, parentPort!);

const overChannel = new SessionManager();
overChannel.handle((m) => ({ overChannel: m.value }));

const api = {
  add: (a: number, b: number) => a + b,
  never: () => new Promise(() => {}),
  connect(port: Parameters<typeof attach>[1]) {
    attach(overChannel, port as never);
    return "connected";
  },
};
export type Api = typeof api;
Comlink.expose(api, nodeEndpoint(parentPort! as never));
parentPort!.postMessage({ comlinkReady: true });
