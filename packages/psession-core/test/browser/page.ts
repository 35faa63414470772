// Runs in Chromium: the Chinese README's page, talking to a Web Worker with psession.
import { SessionManager, SessionTimeoutError } from "psession";

declare global {
  interface Window {
    runDialogue(workerUrl: string): Promise<unknown>;
  }
}

window.runDialogue = async (workerUrl: string) => {
  const worker = new Worker(workerUrl, { type: "module" });
  const sessionManager = new SessionManager({ sender: (message) => worker.postMessage(message), sessionTimeout: 2000 });
  worker.onmessage = (event: MessageEvent) => {
    const message = event.data;
    if (sessionManager.isSession(message)) sessionManager.getSession(message)?.next(message);
  };
  // Step 2 of the README: a once session per request.
  const once = await sessionManager.createSession({ once: true }).send({ type: "request", value: 1 });
  // A multi-turn dialogue with the worker.
  const session = sessionManager.createSession();
  const first = await session.send({ command: "turnOnLight" });
  const second = await session.send({ password: "123456" });
  session.end();
  // A request the worker ignores times out with the exported error class.
  let timedOut = false;
  try {
    await sessionManager.createSession({ once: true }).send({ type: "ignored" }, { timeout: 50 });
  } catch (error) {
    timedOut = error instanceof SessionTimeoutError;
  }
  worker.terminate();
  return { once, first, second, timedOut, live: sessionManager.size };
};
