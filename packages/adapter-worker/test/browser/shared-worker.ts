// A SharedWorker in Chromium: every page (every SharedWorker object) that connects is its own port.
import { attach, type SharedWorkerScopeLike } from "@psession/worker";
import { SessionManager, type Port } from "psession";

const manager = new SessionManager({ sessionTimeout: 10_000 });
const decodeErrors: string[] = [];
manager.on("error", (error) => {
  if ((error as { code?: string }).code === "DECODE_FAILED") decodeErrors.push(error.message);
});
const connections = attach(manager, self as unknown as SharedWorkerScopeLike);
manager.handle(async (m, session) => {
  const port = manager.ports.get(session.port) as Port;
  switch (m.op) {
    case "hello":
      // Calls back the page that asked, on its own port, before answering.
      return { port: session.port, role: port.role, back: await port.request({ op: "who-are-you" }) };
    case "count":
      return { connections: connections.ports.size };
    case "decode-errors":
      return { decodeErrors };
    default:
      return { echo: m.value };
  }
});
