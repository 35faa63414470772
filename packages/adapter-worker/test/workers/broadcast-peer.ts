// A participant of a BroadcastChannel in its own worker thread, named by workerData.name.
import { parentPort, workerData } from "node:worker_threads";
import { attach } from "@psession/worker";
import { SessionManager } from "psession";

const { name, channelName } = workerData as { name: string; channelName: string };
const channel = new BroadcastChannel(channelName);
const manager = new SessionManager({ sessionTimeout: 10_000 });
const handle = attach(manager, channel, { name });
let served = 0;
manager.on("session:create", (session) => {
  if (session.remote) served++;
});
manager.handle(async (m, session) => {
  switch (m.op) {
    case "who":
      await new Promise((r) => setTimeout(r, m.n % 3));
      return { me: name, n: m.n, from: m.$from, role: manager.ports.get(session.port)?.role };
    case "dialogue": {
      const answer = await session.send({ question: `${name}:${m.n}` });
      return { me: name, n: m.n, answer: answer.answer };
    }
    case "ask":
      return { viaPeer: await manager.request(m.peer, { op: "who", n: m.n }) };
    case "served":
      return { served };
    case "hang":
      return new Promise(() => {});
    default:
      throw new Error("unknown op");
  }
});
parentPort!.on("message", (v) => {
  if (v === "close") {
    handle.close();
    channel.close();
    parentPort!.postMessage({ closed: name });
  }
});
parentPort!.postMessage({ ready: name });
