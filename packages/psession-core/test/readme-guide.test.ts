// The PSession README's guide examples, as written there, against a peer on a loopback channel.
import { afterEach, describe, expect, test } from "vitest";
import {
  SessionAbortError,
  SessionCancelError,
  SessionInvalidError,
  SessionManager,
  SessionTimeoutError,
  type Message,
} from "psession";
import { delay, settle } from "./helpers.js";

/** A device that answers like the README's lamp: needs a password before turning the light on. */
function lampDevice(reply: (message: Message) => void, sidName = "sid") {
  return (message: Message) => {
    const sid = message[sidName];
    if (message.command === "turnOnLight") queueMicrotask(() => reply({ status: "needPassword", [sidName]: sid }));
    else if (message.password !== undefined)
      queueMicrotask(() => reply({ status: message.password === "123456" ? "ok" : "denied", [sidName]: sid }));
    else if (message.command === "queryStatus") queueMicrotask(() => reply({ light: "on", [sidName]: sid }));
  };
}

let managers: SessionManager[] = [];
afterEach(() => {
  for (const m of managers) m.clear();
  managers = [];
});

describe("README guide", () => {
  test("Creating and Using Sessions: a multi-turn dialogue with the README's onMessage routing", async () => {
    const sent: Message[] = [];
    let device: (m: Message) => void = () => {};
    const manager = new SessionManager({
      sender: (message) => {
        sent.push(message);
        device(message);
      },
      sessionTimeout: 5000,
      sessionMaxLife: 600000,
      sessionIdName: "sid",
      maxSessionCount: 255,
    });
    managers.push(manager);
    const regular: Message[] = [];
    // "Handling Session Messages", verbatim apart from the log.
    function onMessage(message: Message) {
      if (manager.isSession(message)) {
        const session = manager.getSession(message, message.from);
        if (session) session.next(message);
      } else {
        regular.push(message);
      }
    }
    device = lampDevice(onMessage);

    const session = manager.createSession("default");
    let result: Message | undefined;
    try {
      const response = await session.send({ command: "turnOnLight" });
      expect(response.status).toBe("needPassword");
      if (response.status === "needPassword") {
        result = await session.send({ password: "123456" });
      }
    } finally {
      session.end();
    }
    expect(result).toEqual({ status: "ok", sid: 1 });
    // Each turn carries its turn number, a later one the turn it follows (docs/protocol.md); a
    // device that only echoes sid ignores both.
    expect(sent).toEqual([
      { command: "turnOnLight", sid: 1, $turn: 1 },
      { password: "123456", sid: 1, $turn: 2, $re: 1 },
    ]);
    onMessage({ hello: "world" });
    expect(regular).toEqual([{ hello: "world" }]);
    expect(manager.size).toBe(0);
  });

  test("SID configuration: custom sessionIdName, maxSessionCount and onSessionOverflow", async () => {
    const sent: Message[] = [];
    const overflowCalls: string[] = [];
    const manager = new SessionManager({
      sender: (message) => void sent.push(message),
      sessionIdName: "sessionId",
      maxSessionCount: 3,
      onSessionOverflow: (port) => {
        overflowCalls.push(port.name);
        return 1;
      },
    });
    managers.push(manager);
    const s1 = manager.createSession();
    const s2 = manager.createSession();
    const s3 = manager.createSession();
    expect([s1.id, s2.id, s3.id]).toEqual([1, 2, 3]);
    const first = settle(s1.send({ q: 1 }));
    expect(sent[0]).toEqual({ q: 1, sessionId: 1, $turn: 1 });
    // All three ids are taken: onSessionOverflow picks 1, which is cancelled and handed out again.
    const s4 = manager.createSession();
    expect(s4.id).toBe(1);
    expect(overflowCalls).toEqual(["default"]);
    expect(await first).toBeInstanceOf(SessionCancelError);
    expect(s1.ended).toBe(true);
    expect(manager.isSession({ sessionId: 2 })).toBe(true);
    expect(manager.isSession({ sid: 2 })).toBe(false);
    expect(manager.isSession({ sessionId: 4 })).toBe(false);
  });

  test("Retry Mechanism: retryCount 3 means 4 sends, then SessionTimeoutError", async () => {
    const sent: Message[] = [];
    const manager = new SessionManager({ sender: (m) => void sent.push(m), sessionTimeout: 40 });
    managers.push(manager);
    manager.createPort("device1", { sender: (m) => void sent.push(m) });
    const session = manager.createSession("device1");
    const started = Date.now();
    const error = await settle(session.send({ command: "queryStatus" }, { retryCount: 3, retryInterval: 20 }));
    expect(error).toBeInstanceOf(SessionTimeoutError);
    expect((error as Error).message).toMatch(/no reply to 4 attempts in \d+ ms \(40 ms each\)/);
    // 4 attempts, then a cancel notice so the device stops working on it.
    expect(sent).toHaveLength(5);
    const notice = sent.pop()!;
    expect(notice).toEqual({ sid: session.id, $turn: 1, $cancel: "SessionTimeoutError" });
    // Same message, sid and turn every time (the attempt is counted in $try).
    expect(sent.map((m) => m.$turn)).toEqual([1, 1, 1, 1]);
    expect(sent[0]).toMatchObject({ command: "queryStatus", sid: session.id });
    // 4 timeouts of 40 ms and 3 pauses of 20 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 40 + 3 * 20 - 5);
    session.end();
  });

  test("Retry Mechanism: a reply to a retry resolves the send", async () => {
    const sent: Message[] = [];
    const manager = new SessionManager({ sessionTimeout: 30 });
    managers.push(manager);
    manager.createPort("device1", {
      sender: (m) => {
        sent.push(m);
        // The device only answers the third attempt.
        if (sent.length === 3) queueMicrotask(() => manager.receive({ light: "on", sid: m.sid }, "device1"));
      },
    });
    const session = manager.createSession("device1");
    const reply = await session.send({ command: "queryStatus" }, { retryCount: 3, retryInterval: 10 });
    expect(reply).toMatchObject({ light: "on" });
    expect(sent).toHaveLength(3);
    session.end();
  });

  test("Timeout Mechanism: a per-send timeout overrides sessionTimeout", async () => {
    const manager = new SessionManager({ sender: () => {}, sessionTimeout: 5000 });
    managers.push(manager);
    const session = manager.createSession();
    const started = Date.now();
    const error = await settle(session.send({ command: "queryStatus" }, { timeout: 50 }));
    expect(error).toBeInstanceOf(SessionTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    // A plain session survives a timed-out send and can send again.
    expect(session.ended).toBe(false);
    session.end();
  });

  test("Timeout Mechanism: idle sessions older than sessionMaxLife end by themselves", async () => {
    const manager = new SessionManager({ sender: () => {}, sessionTimeout: 20, sessionMaxLife: 60 });
    managers.push(manager);
    const ends: unknown[] = [];
    const session = manager.createSession();
    session.on("end", (reason) => void ends.push(reason));
    await delay(200);
    expect(session.ended).toBe(true);
    expect(ends[0]).toBeInstanceOf(SessionTimeoutError);
    expect(manager.size).toBe(0);
  });

  test("Error Handling: every error type is exported and distinguishable", async () => {
    const manager = new SessionManager({ sender: () => {}, sessionTimeout: 5000 });
    managers.push(manager);
    const kinds: string[] = [];
    const classify = (error: unknown) => {
      if (error instanceof SessionTimeoutError) kinds.push("timeout");
      else if (error instanceof SessionCancelError) kinds.push("cancel");
      else if (error instanceof SessionInvalidError) kinds.push("invalid");
      else if (error instanceof SessionAbortError) kinds.push("abort");
      else kinds.push("unknown");
    };
    const a = manager.createSession();
    const pa = a.send({ q: 1 }).catch(classify);
    a.timeout();
    const b = manager.createSession();
    const pb = b.send({ q: 1 }).catch(classify);
    b.cancel();
    const c = manager.createSession();
    c.end();
    const pc = c.send({ q: 1 }).catch(classify);
    const d = manager.createSession();
    const pd = d.send({ q: 1 }).catch(classify);
    d.abort(new Error("user left"));
    await Promise.all([pa, pb, pc, pd]);
    expect(kinds).toEqual(["timeout", "cancel", "invalid", "abort"]);
    a.end();
    b.end();
  });
});

describe("README 工作原理 (Chinese README): a page and a Worker", () => {
  test("createSession({ once: true }) with a remote that echoes the sid back", async () => {
    // The Worker: `if (message.sid && message.sid > 0) postMessage({type, payload, sid: message.sid})`.
    const { Worker } = await import("node:worker_threads");
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
       parentPort.on("message", (message) => {
         if (message.sid && message.sid > 0) {
           parentPort.postMessage({ type: "response", payload: message.value * 100, sid: message.sid });
         }
       });`,
      { eval: true },
    );
    try {
      const sessionManager = new SessionManager({ sender: (message) => worker.postMessage(message) });
      managers.push(sessionManager);
      worker.on("message", (message) => {
        if (sessionManager.isSession(message)) {
          const session = sessionManager.getSession(message);
          if (session) session.next(message);
        }
      });
      const send = (message: Message) => sessionManager.createSession({ once: true }).send(message);
      const result = await send({ type: "request", value: 1 });
      expect(result).toEqual({ type: "response", payload: 100, sid: 1 });
      const many = await Promise.all([2, 3, 4].map((value) => send({ type: "request", value })));
      expect(many.map((r) => r.payload)).toEqual([200, 300, 400]);
      // once sessions are gone after their reply.
      expect(sessionManager.size).toBe(0);
    } finally {
      await worker.terminate();
    }
  });
});
