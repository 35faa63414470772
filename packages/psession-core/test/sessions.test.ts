import { afterEach, describe, expect, test } from "vitest";
import {
  SessionAbortError,
  SessionCancelError,
  SessionInvalidError,
  SessionManager,
  SessionRemoteError,
  SessionSendError,
  SessionTimeoutError,
  type Message,
} from "psession";
import { delay, loopback, settle } from "./helpers.js";

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});
function track<T extends { client: SessionManager; server: SessionManager }>(pair: T): T {
  cleanup.push(() => {
    pair.client.clear();
    pair.server.clear();
  });
  return pair;
}
function manager(options: ConstructorParameters<typeof SessionManager>[0] = {}) {
  const m = new SessionManager(options);
  cleanup.push(() => m.clear());
  return m;
}

describe("messages", () => {
  test("the caller's message is never mutated; the sid goes on a copy", async () => {
    const sent: Message[] = [];
    const m = manager({ sender: (x) => void sent.push(x) });
    const message = Object.freeze({ command: "go", nested: { a: 1 } });
    const session = m.createSession();
    void settle(session.send(message, { timeout: 1000 }));
    session.post(message);
    expect(message).toEqual({ command: "go", nested: { a: 1 } });
    expect(sent[0]).not.toBe(message);
    expect(sent[0]).toEqual({ command: "go", nested: { a: 1 }, sid: 1, $turn: 1 });
    expect(sent[1]).toEqual({ command: "go", nested: { a: 1 }, sid: 1, $turn: 2, $re: 1 });
    session.end();
  });

  test("a non-object message is refused with a TypeError", async () => {
    const m = manager({ sender: () => {} });
    const session = m.createSession();
    expect(await settle(session.send("hello" as never))).toBeInstanceOf(TypeError);
    expect(await settle(session.send([1] as never))).toBeInstanceOf(TypeError);
    expect(session.pending).toBe(false);
    session.end();
  });
});

describe("createSession and ports", () => {
  test("both README forms; an unknown port throws an error naming it", () => {
    const m = manager({ sender: () => {} });
    m.createPort("device1", { sender: () => {} });
    expect(m.createSession("device1").port).toBe("device1");
    expect(m.createSession({ once: true }).port).toBe("default");
    expect(m.createSession("device1", { timeout: 5 }).port).toBe("device1");
    expect(() => m.createSession("nope")).toThrow(/"nope"/);
    expect(() => m.createSession("nope")).toThrow(SessionInvalidError);
    expect([...m.ports.keys()]).toEqual(["default", "device1"]);
    expect(m.default).toBe(m.ports.get("default"));
  });

  test("session ids are per port: each port has its own 1..max space", () => {
    const m = manager({ sender: () => {} });
    m.createPort("a", { sender: () => {} });
    m.createPort("b", { sender: () => {} });
    expect([m.createSession("a").id, m.createSession("a").id]).toEqual([1, 2]);
    expect([m.createSession("b").id, m.createSession("b").id]).toEqual([1, 2]);
  });

  test("createPort overrides: its own sender and timeout", async () => {
    const toA: Message[] = [];
    const m = manager({ sender: () => {}, sessionTimeout: 10_000 });
    const port = m.createPort("a", { sender: (x) => void toA.push(x), sessionTimeout: 30 });
    const started = Date.now();
    expect(await settle(port.request({ q: 1 }))).toBeInstanceOf(SessionTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(toA).toEqual([
      { q: 1, sid: 1, $turn: 1 },
      { sid: 1, $turn: 1, $cancel: "SessionTimeoutError" },
    ]);
    expect(() => m.createPort("a")).toThrow(/"a" already exists/);
  });

  test("port.destroy() rejects every pending session of that port at once, and only that port", async () => {
    const m = manager({ sender: () => {}, sessionTimeout: 60_000 });
    const a = m.createPort("a", { sender: () => {} });
    m.createPort("b", { sender: () => {} });
    const onA = Array.from({ length: 5 }, () => settle(a.request({ q: 1 })));
    const onB = m.createSession("b");
    const pendingB = settle(onB.send({ q: 2 }));
    const started = Date.now();
    a.destroy();
    for (const r of await Promise.all(onA)) expect(r).toBeInstanceOf(SessionAbortError);
    expect(Date.now() - started).toBeLessThan(50);
    expect(m.ports.has("a")).toBe(false);
    expect(onB.pending).toBe(true);
    // destory(): the Chinese README's spelling still works.
    m.ports.get("b")!.destory();
    expect(await pendingB).toBeInstanceOf(SessionAbortError);
    expect(m.size).toBe(0);
  });

  test("overflow recycles the oldest session by default, cancelling it first", async () => {
    const m = manager({ sender: () => {}, maxSessionCount: 4 });
    const sessions = [1, 2, 3, 4].map(() => m.createSession());
    const first = settle(sessions[0]!.send({ q: 1 }));
    sessions[1]!.end(); // id 2 frees up: it is used before anything is recycled
    expect(m.createSession().id).toBe(2);
    const next = m.createSession();
    expect(next.id).toBe(1);
    expect(await first).toBeInstanceOf(SessionCancelError);
  });

  test("allocation stays O(1) with 65535 live sessions (probes per allocation counted)", () => {
    const m = manager({ sender: () => {} });
    const table = (m.default as unknown as { _sessions: { has(id: number): boolean } })._sessions;
    let probes = 0;
    const has = table.has.bind(table);
    table.has = (id: number) => {
      probes++;
      return has(id);
    };
    for (let i = 0; i < 65_535; i++) m.createSession();
    expect(m.size).toBe(65_535);
    expect(probes).toBeLessThanOrEqual(65_535);
    // Full: each new session recycles the oldest (the one at the cursor) without scanning.
    probes = 0;
    const recycled = m.createSession();
    expect(recycled.id).toBe(1);
    for (let i = 0; i < 999; i++) m.createSession();
    // One look per allocation: that no "session:end" listener of the victim took its id.
    expect(probes).toBeLessThanOrEqual(1000);
    expect(m.size).toBe(65_535);
    // Free 100 ids in the middle, then allocate 100: bounded probing finds exactly those.
    const live = [...m.default.sessions.values()];
    const freed = live.slice(30_000, 30_100);
    for (const s of freed) s.end();
    const ids = new Set<number>();
    for (let i = 0; i < 100; i++) ids.add(m.createSession().id);
    expect([...ids].sort((a, b) => a - b)).toEqual(freed.map((s) => s.id));
    expect(m.size).toBe(65_535);
  });

  test("never two live sessions with one id", () => {
    const m = manager({ sender: () => {}, maxSessionCount: 50 });
    const live = new Map<number, { ended: boolean }>();
    for (let i = 0; i < 2000; i++) {
      const s = m.createSession();
      const before = live.get(s.id);
      expect(before === undefined || before.ended).toBe(true);
      live.set(s.id, s);
      if (i % 3 === 0) s.end();
    }
  });
});

describe("remote-initiated sessions", () => {
  test("the README server example: session:create + next listener, multi-turn", async () => {
    const { client, server, clientPort, errors } = track(loopback({ sessionTimeout: 2000 }));
    const created: number[] = [];
    server.on("session:create", (session) => {
      created.push(session.id);
      session.on("next", async (message) => {
        if (message.command === "turnOnLight") {
          const answer = await session.send({ status: "needPassword" });
          session.post({ status: answer.password === "123456" ? "ok" : "denied" });
          session.end();
        }
      });
    });
    const session = client.createSession(clientPort.name);
    expect((await session.send({ command: "turnOnLight" })).status).toBe("needPassword");
    expect((await session.send({ password: "123456" })).status).toBe("ok");
    session.end();
    expect(created).toEqual([1]);
    await delay(5);
    expect(server.size).toBe(0);
    expect(errors).toEqual([]);
  });

  test("a responder's await session.send() nobody answers surfaces on error, not as an unhandled rejection", async () => {
    const { clientPort, server, errors } = track(loopback({ sessionTimeout: 50 }));
    server.on("session:create", (session) => {
      session.on("next", async () => {
        await session.send({ status: "success" }); // README style: waits for a turn that never comes
      });
    });
    expect(await clientPort.request({ command: "getTime" })).toMatchObject({ status: "success" });
    await delay(150);
    expect(errors.some((e) => e instanceof SessionTimeoutError)).toBe(true);
  });

  test("a remote session nobody handles is answered with an error at once, not left to time out", async () => {
    const { clientPort, errors } = track(loopback({ sessionTimeout: 5000 }));
    const started = Date.now();
    const error = await settle(clientPort.request({ q: 1 }));
    expect(error).toBeInstanceOf(SessionRemoteError);
    expect((error as SessionRemoteError).message).toMatch(/no handler/);
    expect(Date.now() - started).toBeLessThan(500);
    expect(errors.some((e) => /no handler/.test(e.message))).toBe(true);
  });

  test("handle(): returning nothing replies {}, a non-object is refused, errors carry name/code/data", async () => {
    const { clientPort, server } = track(loopback());
    server.handle((m) => {
      if (m.kind === "void") return undefined;
      if (m.kind === "number") return 42;
      throw Object.assign(new RangeError("too far"), { code: 7, data: { max: 3 } });
    });
    expect(await clientPort.request({ kind: "void" })).toEqual({ sid: 1, $re: 1 });
    const refused = await settle(clientPort.request({ kind: "number" }));
    expect(refused).toBeInstanceOf(SessionRemoteError);
    const failed = (await settle(clientPort.request({ kind: "throw" }))) as SessionRemoteError;
    expect(failed).toBeInstanceOf(SessionRemoteError);
    expect(failed.remote).toEqual({ name: "RangeError", message: "too far", code: 7, data: { max: 3 } });
  });

  test("a late reply after a timeout is reported, not taken for a new request (parity roles)", async () => {
    const { client, server, clientPort, serverEnd, errors } = track(loopback({ sessionTimeout: 30 }));
    let signal: AbortSignal | undefined;
    server.handle(async (_m, session) => {
      signal = session.signal;
      await delay(80);
      return { late: true };
    });
    const created: unknown[] = [];
    client.on("session:create", (s) => void (s.remote && created.push(s)));
    expect(await settle(clientPort.request({ q: 1 }))).toBeInstanceOf(SessionTimeoutError);
    // The timeout told the server: its handler's signal aborted, and its late answer is dropped there.
    await delay(10);
    expect(signal?.aborted).toBe(true);
    // A late reply that still arrives (a peer without cancel support) is reported, never opens a session.
    serverEnd.send({ sid: 1, late: true });
    await delay(120);
    expect(created).toEqual([]);
    expect(errors.some((e) => /late or duplicate reply/.test(e.message))).toBe(true);
    void server;
  });
});

describe("cancel, abort, timeout, once", () => {
  test("once sessions end after their reply, timeout or cancel", async () => {
    const { client, server, clientPort } = track(loopback({ sessionTimeout: 30 }));
    server.handle((m) => (m.answer ? { ok: true } : new Promise(() => {})));
    const a = client.createSession(clientPort.name, { once: true });
    await a.send({ answer: true });
    expect(a.ended).toBe(true);
    const b = client.createSession(clientPort.name, { once: true });
    expect(await settle(b.send({ answer: false }))).toBeInstanceOf(SessionTimeoutError);
    expect(b.ended).toBe(true);
    const c = client.createSession(clientPort.name, { once: true });
    const pc = settle(c.send({ answer: false }));
    c.cancel();
    expect(await pc).toBeInstanceOf(SessionCancelError);
    expect(c.ended).toBe(true);
    expect(client.size).toBe(0);
  });

  test("cancel and abort are never retried", async () => {
    const sent: Message[] = [];
    const m = manager({ sender: (x) => void sent.push(x), sessionTimeout: 20 });
    const a = m.createSession();
    const pa = settle(a.send({ q: 1 }, { retryCount: 5, retryInterval: 5 }));
    a.cancel();
    const b = m.createSession();
    const pb = settle(b.send({ q: 2 }, { retryCount: 5, retryInterval: 5 }));
    b.abort();
    expect(await pa).toBeInstanceOf(SessionCancelError);
    expect(await pb).toBeInstanceOf(SessionAbortError);
    await delay(80);
    // One attempt each, then one notice each telling the remote to stop.
    expect(sent.map((x) => x.$cancel ?? x.q)).toEqual([1, "SessionCancelError", 2, "SessionAbortError"]);
  });

  test("an AbortSignal aborts the send", async () => {
    const m = manager({ sender: () => {} });
    const controller = new AbortController();
    const session = m.createSession();
    const p = settle(session.send({ q: 1 }, { signal: controller.signal }));
    controller.abort(new Error("user navigated away"));
    const error = await p;
    expect(error).toBeInstanceOf(SessionAbortError);
    expect((error as SessionAbortError).cause).toBeInstanceOf(Error);
    expect(await settle(session.send({ q: 2 }, { signal: controller.signal }))).toBeInstanceOf(SessionAbortError);
    session.end();
  });

  test("manager.cancel/abort/timeout/clear reach every pending session of every port", async () => {
    const m = manager({ sender: () => {} });
    m.createPort("x", { sender: () => {} });
    const run = () => [settle(m.default.request({})), settle(m.ports.get("x")!.request({}))];
    let p = run();
    m.cancel();
    for (const r of await Promise.all(p)) expect(r).toBeInstanceOf(SessionCancelError);
    p = run();
    m.timeout();
    for (const r of await Promise.all(p)) expect(r).toBeInstanceOf(SessionTimeoutError);
    p = run();
    m.abort();
    for (const r of await Promise.all(p)) expect(r).toBeInstanceOf(SessionAbortError);
    p = run();
    m.clear();
    for (const r of await Promise.all(p)) expect(r).toBeInstanceOf(SessionCancelError);
    expect(m.size).toBe(0);
  });

  test("a second send while one is pending is refused; a send on an ended session too", async () => {
    const m = manager({ sender: () => {} });
    const s = m.createSession();
    const first = settle(s.send({ a: 1 }));
    expect(await settle(s.send({ b: 2 }))).toBeInstanceOf(SessionInvalidError);
    s.end();
    expect(await first).toBeInstanceOf(SessionCancelError);
    expect(await settle(s.send({ c: 3 }))).toBeInstanceOf(SessionInvalidError);
    expect(() => s.post({ d: 4 })).toThrow(SessionInvalidError);
  });

  test("a sender that throws or rejects fails the send at once with SessionSendError", async () => {
    const m = manager({ sender: () => {}, sessionTimeout: 60_000 });
    m.createPort("sync", {
      sender: () => {
        throw new Error("socket is not open");
      },
    });
    m.createPort("async", { sender: () => Promise.reject(new Error("EPIPE")) });
    const started = Date.now();
    const a = await settle(m.ports.get("sync")!.request({ q: 1 }));
    const b = await settle(m.ports.get("async")!.request({ q: 1 }));
    expect(a).toBeInstanceOf(SessionSendError);
    expect((a as Error).message).toMatch(/socket is not open/);
    expect(b).toBeInstanceOf(SessionSendError);
    expect((b as Error).message).toMatch(/EPIPE/);
    expect(Date.now() - started).toBeLessThan(100);
    // No sender at all.
    const bare = manager();
    expect(await settle(bare.request({ q: 1 }))).toBeInstanceOf(SessionSendError);
  });
});

describe("timer edge cases", () => {
  test("a timeout beyond setTimeout's 2^31-1 ms range neither fires early nor spins the timer", async () => {
    const m = manager({ sender: () => {} });
    const delays: number[] = [];
    const real = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return real(fn, ms);
    }) as typeof setTimeout;
    try {
      const session = m.createSession();
      const pending = settle(session.send({ q: 1 }, { timeout: 30 * 24 * 3600 * 1000 }));
      await new Promise((resolve) => real(resolve, 50));
      expect(session.pending).toBe(true);
      // One timer, clamped to the largest delay setTimeout honours; no re-arming in a loop.
      expect(delays).toEqual([0x7fffffff]);
      session.end();
      expect(await pending).toBeInstanceOf(SessionCancelError);
    } finally {
      globalThis.setTimeout = real;
    }
  });

  test("a fractional retryCount counts whole retries", async () => {
    const sent: Message[] = [];
    const m = manager({ sender: (x) => void sent.push(x), sessionTimeout: 10 });
    expect(await settle(m.request({ q: 1 }, { retryCount: 1.5 }))).toBeInstanceOf(SessionTimeoutError);
    expect(sent.filter((x) => x.$cancel === undefined)).toHaveLength(2);
  });
});
