import { attach } from "@psession/socketio";
import { SessionAbortError, SessionChannelError, type SessionManager } from "psession";
import type { Socket } from "socket.io-client";
import { afterEach, describe, expect, test } from "vitest";
import { client, manager, sleep, startServer, teardown, TRANSPORTS, until, whenConnected } from "./helpers.js";

afterEach(teardown);

/** Drops the connection as a network failure would: the transport goes, no Socket.IO disconnect packet. */
const drop = (socket: Socket) => (socket.io.engine as unknown as { close(): void }).close();

/** A handler that counts how often each request ran and answers after `ms`. */
function countingHandler(m: SessionManager, ms: number) {
  const runs = new Map<number, number>();
  m.handle(async (message) => {
    runs.set(message.id, (runs.get(message.id) ?? 0) + 1);
    await sleep(ms);
    return { id: message.id, ran: true };
  });
  return runs;
}

describe("without reconnect (the default)", () => {
  test("a disconnect fails every pending send at once on both ends; after Socket.IO reconnects, sessions work again", async () => {
    const server = await startServer();
    const { manager: sm } = manager();
    const handle = attach(sm, server.io);
    sm.handle(() => new Promise(() => {}));
    const { manager: cm } = manager();
    cm.handle(() => new Promise(() => {}));
    const socket = client(server.url, { auth: { id: "dev" } });
    const port = attach(cm, socket, { port: "server" });
    await whenConnected(socket);
    await until(() => handle.ports.size === 1);
    const pending = [
      ...Array.from({ length: 5 }, (_, i) => port.request({ i }, { timeout: 60_000 }).catch((e: unknown) => e)),
      ...Array.from({ length: 5 }, (_, i) => sm.request("dev", { i }, { timeout: 60_000 }).catch((e: unknown) => e)),
    ];
    await until(() => cm.size === 10 && sm.size === 10);
    const started = Date.now();
    drop(socket);
    const results = await Promise.all(pending);
    expect(Date.now() - started).toBeLessThan(2000);
    for (const r of results) expect(r).toBeInstanceOf(SessionAbortError);
    expect(port.destroyed).toBe(true);
    // Socket.IO reconnects by itself; the port is made again under the same name on both ends.
    await until(() => cm.ports.get("server")?.attached === true && handle.ports.size === 1, 5000, "the reconnection");
    sm.handle((m) => ({ echo: m.n }));
    cm.handle((m) => ({ echo: m.n }));
    expect(await cm.request("server", { n: 1 })).toMatchObject({ echo: 1 });
    expect(await sm.request("dev", { n: 2 })).toMatchObject({ echo: 2 });
  });
});

describe("a connection that never opens", () => {
  test("refused by the server's middleware: sends waiting for it fail at once (SessionAbortError, cause NOT_OPEN)", async () => {
    const server = await startServer();
    server.io.use((_socket, next) => next(new Error("not allowed")));
    const { manager: cm } = manager();
    const port = attach(cm, client(server.url), { port: "srv" });
    const started = Date.now();
    const failure = await port.request({}, { timeout: 60_000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(failure).toBeInstanceOf(SessionAbortError);
    expect((failure as Error).message).toMatch(/refused the connection \(not allowed\)/);
    expect((failure as Error).cause).toBeInstanceOf(SessionChannelError);
    expect((failure as Error).cause).toMatchObject({ code: "NOT_OPEN" });
    expect(port.destroyed).toBe(true);
  });
});

describe("with reconnect", () => {
  for (const transport of TRANSPORTS) {
    test(`over ${transport}: sends with retries complete over the new connection, each run once; the others fail at once`, async () => {
      const server = await startServer();
      const { manager: sm, errors: serverErrors } = manager();
      const handle = attach(sm, server.io, { reconnect: true });
      const serverRuns = countingHandler(sm, 0);
      const { manager: cm, errors: clientErrors } = manager();
      const clientRuns = countingHandler(cm, 0);
      const socket = client(server.url, { transports: [transport], auth: { id: "dev" }, reconnectionDelay: 200 });
      const port = attach(cm, socket, { reconnect: true });
      await whenConnected(socket);
      await until(() => handle.ports.size === 1);
      const serverPort = sm.ports.get("dev")!;
      const retry = { timeout: 1000, retryCount: 10, retryInterval: 100 };
      const requests = (from: number) => [
        ...Array.from({ length: 10 }, (_, i) => port.request({ id: from + i }, retry)),
        ...Array.from({ length: 10 }, (_, i) => sm.request("dev", { id: from + 100 + i }, retry)),
      ];
      const once = [
        port.request({ id: 50 }).catch((e: unknown) => e),
        sm.request("dev", { id: 150 }).catch((e: unknown) => e),
      ];
      drop(socket);
      // Sent while the connection is down: they go out once it is back. (Sends already answered
      // into the dropped connection: see the next test.)
      await until(() => !port.attached && !serverPort.attached, 2000, "both ends to notice");
      const whileDown = requests(1000);
      expect(await Promise.all(once)).toEqual([expect.any(SessionAbortError), expect.any(SessionAbortError)]);
      const replies = await Promise.all(whileDown);
      expect(replies.map((r) => r.id).sort((a, b) => a - b)).toEqual(
        [1000, 1100].flatMap((from) => Array.from({ length: 10 }, (_, i) => from + i)),
      );
      // The same ports, kept with their sessions; no handler ran twice.
      expect(cm.ports.get("default")).toBe(port);
      expect(sm.ports.get("dev")).toBe(serverPort);
      for (const runs of [serverRuns, clientRuns]) for (const [, n] of runs) expect(n).toBe(1);
      // Late answers of the dropped connection may be reported; nothing else.
      for (const e of [...serverErrors, ...clientErrors])
        expect(e.message).toMatch(/late or duplicate|connection closed|could not send|no transport/);
    });
  }

  // An answer that finds its port parked (between connections) is kept, so the retry after the
  // reconnect gets it, not a "could not be sent" error.
  test("a handler that answers while its port waits for the reconnection: the retry gets the answer", async () => {
    const server = await startServer();
    const { manager: sm } = manager();
    attach(sm, server.io, { reconnect: true });
    const { manager: cm } = manager();
    const socket = client(server.url, { auth: { id: "dev" }, reconnectionDelay: 300 });
    const port = attach(cm, socket, { reconnect: true });
    await whenConnected(socket);
    let runs = 0;
    sm.handle(async () => {
      runs++;
      drop(socket);
      await until(() => sm.ports.get("dev")?.attached === false);
      return { ok: true };
    });
    expect(await port.request({}, { timeout: 1000, retryCount: 5, retryInterval: 200 })).toMatchObject({ ok: true });
    expect(runs).toBe(1);
  });

  // The server re-sends its pending turn after the reconnect; the client already has it and has not
  // sent its next one yet: the repeat is dropped quietly, not reported as "no send pending".
  test("a dialogue over a reconnect: the server's re-sent turn, already received, is no error", async () => {
    const server = await startServer();
    const { manager: sm } = manager();
    attach(sm, server.io, { reconnect: true });
    sm.handle(async (m, session) => {
      const second = await session.send({ step: 1 }, { retryCount: 5, retryInterval: 50 });
      return { step: 2, total: m.base + second.add };
    });
    const { manager: cm, errors } = manager();
    const socket = client(server.url, { auth: { id: "c" } });
    const port = attach(cm, socket, { reconnect: true });
    await whenConnected(socket);
    const session = cm.createSession(port);
    expect(await session.send({ base: 40 })).toMatchObject({ step: 1 });
    drop(socket);
    await until(() => !port.attached);
    await until(() => port.attached);
    await sleep(150); // the server's retry (every 50 ms) arrives before the next turn
    expect(await session.send({ add: 2 })).toMatchObject({ step: 2, total: 42 });
    expect(errors).toEqual([]);
  });

  test("a server restart: the client reconnects, what was pending ends with SessionAbortError (the new server kept nothing), new sessions work", async () => {
    const first = await startServer();
    const { manager: sm1 } = manager();
    attach(sm1, first.io, { reconnect: true });
    sm1.handle(() => new Promise(() => {}));
    const { manager: cm } = manager();
    const runs = countingHandler(cm, 0);
    const socket = client(first.url, { auth: { id: "dev" } });
    const port = attach(cm, socket, { port: "server", reconnect: true });
    await whenConnected(socket);
    const pending = Array.from({ length: 5 }, (_, id) =>
      port.request({ id }, { timeout: 1000, retryCount: 20, retryInterval: 100 }).catch((e: unknown) => e),
    );
    await until(() => sm1.size === 5);
    await first.close();
    const second = await startServer({}, first.port);
    const { manager: sm2, errors } = manager();
    attach(sm2, second.io, { reconnect: true });
    const serverRuns = countingHandler(sm2, 0);
    const started = Date.now();
    const results = await Promise.all(pending);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const r of results) expect(r).toBeInstanceOf(SessionAbortError);
    expect((results[0] as Error).message).toMatch(/did not keep this connection's sessions/);
    // None of them reached the new server.
    expect(serverRuns.size).toBe(0);
    // A fresh port under the same name: sessions both ways.
    const fresh = cm.ports.get("server")!;
    expect(fresh).not.toBe(port);
    expect(await fresh.request({ id: 7 })).toMatchObject({ id: 7 });
    expect(await sm2.request("dev", { id: 8 })).toMatchObject({ id: 8 });
    expect(runs.get(8)).toBe(1);
    expect(errors).toEqual([]);
  });

  test("a client that comes back afresh under the same auth.id: the server's stale sessions end, the new client's are not mistaken for repeats", async () => {
    const server = await startServer();
    const { manager: sm, errors } = manager();
    attach(sm, server.io, { reconnect: true });
    const serverRuns = countingHandler(sm, 0);
    // The first client makes retryable requests (the server remembers their turns), then dies.
    const { manager: old } = manager();
    old.handle(() => new Promise(() => {}));
    const first = client(server.url, { auth: { id: "dev" }, reconnection: false });
    const oldPort = attach(old, first, { reconnect: true });
    for (let id = 0; id < 5; id++) await oldPort.request({ id }, { retryCount: 1, timeout: 2000 });
    const stale = sm
      .request("dev", { id: 99 }, { timeout: 30_000, retryCount: 10, retryInterval: 200 })
      .catch((e: unknown) => e);
    await until(() => old.size === 1);
    drop(first);
    await until(() => sm.ports.get("dev")?.attached === false);
    // A new process, same auth.id, same sids and turn numbers from 1.
    const { manager: cm } = manager();
    const clientRuns = countingHandler(cm, 0);
    const port = attach(cm, client(server.url, { auth: { id: "dev" } }), { reconnect: true });
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) => port.request({ id: 10 + i }, { retryCount: 1 })),
    );
    expect(replies.map((r) => r.id)).toEqual([10, 11, 12, 13, 14]);
    expect(await stale).toBeInstanceOf(SessionAbortError);
    expect(clientRuns.has(99)).toBe(false);
    expect(await sm.request("dev", { id: 20 })).toMatchObject({ id: 20 });
    expect(serverRuns.size).toBe(10);
    expect(errors).toEqual([]);
  });

  test("connectionStateRecovery restores the same socket id: the port (named by it) keeps its sessions", async () => {
    const server = await startServer({ connectionStateRecovery: { maxDisconnectionDuration: 10_000 } });
    const { manager: sm } = manager();
    const handle = attach(sm, server.io, { reconnect: true });
    const runs = countingHandler(sm, 0);
    const { manager: cm, errors } = manager();
    const socket = client(server.url, { reconnectionDelay: 200 }); // no auth.id: the port is named by socket.id
    const port = attach(cm, socket, { reconnect: true });
    await whenConnected(socket);
    const id = socket.id!;
    await until(() => handle.ports.size === 1);
    const serverPort = sm.ports.get(id)!;
    const retry = { timeout: 1000, retryCount: 10, retryInterval: 100 };
    drop(socket);
    await until(() => !port.attached && !serverPort.attached);
    const replies = Array.from({ length: 5 }, (_, n) => port.request({ id: n }, retry));
    expect((await Promise.all(replies)).map((r) => r.id)).toEqual([0, 1, 2, 3, 4]);
    expect(socket.recovered).toBe(true);
    expect(socket.id).toBe(id);
    expect(sm.ports.get(id)).toBe(serverPort);
    for (const [, n] of runs) expect(n).toBe(1);
    for (const e of errors) expect(e.message).toMatch(/no transport/);
  });

  test("a client that does not come back within reconnectWithin: its parked port ends, nothing waits forever", async () => {
    const server = await startServer();
    const { manager: sm } = manager();
    attach(sm, server.io, { reconnect: true, reconnectWithin: 300 });
    const { manager: cm } = manager();
    cm.handle(() => new Promise(() => {}));
    const socket = client(server.url, { auth: { id: "gone" }, reconnection: false });
    attach(cm, socket, { reconnect: true });
    await whenConnected(socket);
    const pending = sm
      .request("gone", {}, { timeout: 60_000, retryCount: 100, retryInterval: 1000 })
      .catch((e: unknown) => e);
    await until(() => cm.size === 1);
    drop(socket);
    const started = Date.now();
    const result = await pending;
    expect(result).toBeInstanceOf(SessionAbortError);
    expect((result as Error).message).toMatch(/did not reconnect within 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(sm.ports.has("gone")).toBe(false);
  });

  test("Socket.IO's at-least-once client retries: frames are acknowledged, duplicates never run twice", async () => {
    const server = await startServer();
    const { manager: sm, errors } = manager();
    attach(sm, server.io);
    const runs = countingHandler(sm, 0);
    const { manager: cm } = manager();
    const port = attach(cm, client(server.url, { retries: 3, ackTimeout: 2000 }));
    const replies = await Promise.all(Array.from({ length: 30 }, (_, id) => port.request({ id })));
    expect(replies.map((r) => r.id)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const [, n] of runs) expect(n).toBe(1);
    expect(errors).toEqual([]);
  });
});
