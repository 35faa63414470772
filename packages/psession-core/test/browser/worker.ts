// Runs in a Chromium Web Worker. It answers psession sessions with psession too.
import { SessionManager } from "psession";

const manager = new SessionManager({ sender: (message) => self.postMessage(message) });
manager.handle(async (message, session) => {
  if (message.type === "request") return { type: "response", payload: message.value * 100 };
  if (message.command === "turnOnLight") {
    const answer = await session.send({ status: "needPassword" });
    return { status: answer.password === "123456" ? "ok" : "denied" };
  }
  return new Promise(() => {}); // never answers
});
self.onmessage = (event: MessageEvent) => manager.receive(event.data);
