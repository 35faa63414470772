import { attach } from "@psession/socketio";
import { SessionCancelError, SessionTimeoutError, type Session } from "psession";
import type { Server } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import { afterEach, describe, expect, test } from "vitest";
import { client, manager, sleep, startServer, teardown, TRANSPORTS, until, whenConnected } from "./helpers.js";

afterEach(teardown);

for (const transport of TRANSPORTS) {
  describe(`over ${transport}`, () => {
    test("both directions at once, a dialogue each way, manager.handle on both ends", async () => {
      const server = await startServer();
      const { manager: sm, errors: se } = manager();
      const { manager: cm, errors: ce } = manager();
      const handle = attach(sm, server.io);
      const socket = client(server.url, { transports: [transport], auth: { id: "lamp-1" } });
      const port = attach(cm, socket);
      const dialogue = async (message: { command: string }, session: Session) => {
        const answer = await session.send({ status: "needPassword", for: message.command });
        return { status: answer.password === "123456" ? "ok" : "denied" };
      };
      sm.handle(dialogue);
      cm.handle(dialogue);
      await whenConnected(socket);
      await until(() => handle.ports.size === 1);
      expect(port.role).toBe("client");
      expect(handle.portOf([...handle.ports.keys()][0]!)?.role).toBe("server");

      const run = async (session: Session) => {
        const first = await session.send({ command: "turnOnLight" });
        const done = await session.send({ password: "123456" });
        session.end();
        return [first.status, done.status];
      };
      const both = await Promise.all(
        Array.from({ length: 20 }, (_, i) => run(i % 2 === 0 ? cm.createSession(port) : sm.createSession("lamp-1"))),
      );
      for (const result of both) expect(result).toEqual(["needPassword", "ok"]);
      expect(cm.size).toBe(0);
      expect(sm.size).toBe(0);
      expect(se).toEqual([]);
      expect(ce).toEqual([]);
    });

    test("progress, cancel and a remote error travel like on every channel", async () => {
      const server = await startServer();
      const { manager: sm } = manager();
      const { manager: cm } = manager();
      attach(sm, server.io);
      const port = attach(cm, client(server.url, { transports: [transport] }));
      let aborted = false;
      sm.handle(async (m, session) => {
        if (m.op === "fail") throw Object.assign(new Error("broken"), { code: "E_BROKEN" });
        if (m.op === "hang") {
          session.signal.addEventListener("abort", () => void (aborted = true));
          return new Promise(() => {});
        }
        for (let i = 1; i <= 3; i++) {
          session.progress({ done: i });
          await sleep(5);
        }
        return { ok: true };
      });
      const seen: number[] = [];
      expect(await port.request({ op: "work" }, { onProgress: (p) => void seen.push(p.done) })).toMatchObject({
        ok: true,
      });
      expect(seen).toEqual([1, 2, 3]);
      await expect(port.request({ op: "fail" })).rejects.toMatchObject({ message: "broken", code: "E_BROKEN" });
      const session = cm.createSession(port);
      const pending = session.send({ op: "hang" });
      await sleep(30);
      session.cancel();
      await expect(pending).rejects.toBeInstanceOf(SessionCancelError);
      await until(() => aborted, 2000, "the handler to see the cancel");
      await expect(port.request({ op: "hang" }, { timeout: 100 })).rejects.toBeInstanceOf(SessionTimeoutError);
    });

    test("the application's own events and acks keep working beside sessions, both ways", async () => {
      const server = await startServer();
      const { manager: sm, errors: se } = manager();
      const { manager: cm, errors: ce } = manager();
      attach(sm, server.io);
      sm.handle((m) => ({ sum: m.a + m.b }));
      cm.handle((m) => ({ product: m.a * m.b }));
      const chat: string[] = [];
      server.io.on("connection", (s) => {
        s.on("chat", (text: string) => void chat.push(text));
        s.on("add", (a: number, b: number, ack: (n: number) => void) => ack(a + b));
        s.emit("welcome", "hi");
      });
      const socket = client(server.url, { transports: [transport], auth: { id: "app" } });
      const welcome = new Promise<string>((resolve) => socket.once("welcome", resolve));
      socket.on("double", (n: number, ack: (n: number) => void) => ack(n * 2));
      const port = attach(cm, socket);
      const [serverSocket] = await Promise.all([
        new Promise<import("socket.io").Socket>((resolve) => server.io.once("connection", resolve)),
        whenConnected(socket),
      ]);
      // Interleaved: application events, acks both ways and sessions both ways.
      const work = await Promise.all([
        port.request({ a: 2, b: 3 }),
        socket.timeout(2000).emitWithAck("add", 4, 5),
        sm.request("app", { a: 6, b: 7 }),
        serverSocket.timeout(2000).emitWithAck("double", 21),
      ]);
      socket.emit("chat", "hello");
      expect(work).toEqual([expect.objectContaining({ sum: 5 }), 9, expect.objectContaining({ product: 42 }), 42]);
      expect(await welcome).toBe("hi");
      await until(() => chat.length === 1);
      expect(chat).toEqual(["hello"]);
      expect(se).toEqual([]);
      expect(ce).toEqual([]);
    });

    test("2,000 concurrent sessions over 20 clients, both ways", async () => {
      const server = await startServer();
      const { manager: sm, errors: se } = manager();
      const handle = attach(sm, server.io);
      sm.handle(async (m) => {
        await sleep(m.n % 3);
        return { n: m.n, by: "server" };
      });
      const clients = Array.from({ length: 20 }, (_, c) => {
        const { manager: cm, errors } = manager();
        cm.handle((m) => ({ n: m.n, by: `client-${c}` }));
        const port = attach(cm, client(server.url, { transports: [transport], auth: { id: `client-${c}` } }));
        return { cm, port, errors };
      });
      await until(() => handle.ports.size === 20);
      const calls: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        const c = i % 20;
        calls.push(clients[c]!.port.request({ n: i }).then((r) => expect(r).toMatchObject({ n: i, by: "server" })));
        calls.push(
          sm.request(`client-${c}`, { n: i }).then((r) => expect(r).toMatchObject({ n: i, by: `client-${c}` })),
        );
      }
      await Promise.all(calls);
      expect(sm.size).toBe(0);
      for (const c of clients) {
        expect(c.cm.size).toBe(0);
        expect(c.errors).toEqual([]);
      }
      expect(se).toEqual([]);
    });
  });
}

describe("attaching", () => {
  test("sends made before the socket connects wait for it; server ports are named by auth.id, else socket.id", async () => {
    const server = await startServer();
    const { manager: sm } = manager();
    const handle = attach(sm, server.io);
    sm.handle((_m, session) => ({ port: session.port }));
    const { manager: cm } = manager();
    const named = client(server.url, { auth: { id: "thermostat-7" } });
    const anonymous = client(server.url, { auth: { token: "x" } });
    expect(named.connected).toBe(false);
    const namedPort = attach(cm, named, { port: "a" });
    const anonymousPort = attach(cm, anonymous, { port: "b" });
    const replies = await Promise.all([namedPort.request({}), anonymousPort.request({})]);
    expect(replies[0].port).toBe("thermostat-7");
    expect(replies[1].port).toBe(anonymous.id);
    expect(new Set([...handle.ports.values()].map((p) => p.name))).toEqual(new Set(["thermostat-7", anonymous.id]));
  });

  test("a server attached after clients connected adopts them; portName and onConnection are honoured", async () => {
    const server = await startServer();
    const sockets = [client(server.url, { auth: { id: "x" } }), client(server.url, { auth: { id: "y" } })];
    await Promise.all(sockets.map(whenConnected));
    const { manager: sm } = manager();
    const seen: string[] = [];
    const handle = attach(sm, server.io, {
      portName: (socket) => `user:${socket.handshake.auth.id}`,
      onConnection: (port) => void seen.push(port.name),
    });
    expect(seen.sort()).toEqual(["user:x", "user:y"]);
    const { manager: cm } = manager();
    cm.handle(() => ({ pong: true }));
    for (const [i, s] of sockets.entries()) attach(cm, s, { port: `p${i}` });
    // The clients' hello reaches the adopted ports; then sessions run from the server side.
    expect(await sm.request("user:x", {})).toMatchObject({ pong: true });
    expect(await sm.request("user:y", {})).toMatchObject({ pong: true });
    handle.close();
    expect(sm.ports.has("user:x")).toBe(false);
  });

  test("typed servers and sockets fit: portName gets the application's own socket type (socket.data)", async () => {
    interface ClientEvents {
      hello(text: string): void;
    }
    interface ServerEvents {
      welcome(text: string): void;
    }
    interface Data {
      user: string;
    }
    const server = await startServer();
    const io = server.io as unknown as Server<ClientEvents, ServerEvents, Record<string, never>, Data>;
    io.use((socket, next) => {
      socket.data.user = `user-${String(socket.handshake.auth.token)}`;
      next();
    });
    const { manager: sm } = manager();
    const handle = attach(sm, io, { portName: (socket) => socket.data.user });
    sm.handle((_m, session) => ({ port: session.port }));
    const { manager: cm } = manager();
    const socket: ClientSocket<ServerEvents, ClientEvents> = client(server.url, { auth: { token: 7 } });
    expect(await attach(cm, socket).request({})).toMatchObject({ port: "user-7" });
    expect([...handle.ports.keys()][0]?.data.user).toBe("user-7");
  });

  test("namespaces: each attached on its own, the main namespace untouched", async () => {
    const server = await startServer();
    const { manager: sm, errors } = manager();
    const chat = attach(sm, server.io.of("/chat"), { portName: (s) => `chat:${s.id}` });
    const admin = attach(sm, server.io.of("/admin"), { portName: (s) => `admin:${s.id}`, event: "rpc" });
    sm.handle((m, session) => ({ where: session.port.split(":")[0], n: m.n }));
    const { manager: cm } = manager();
    const chatPort = attach(cm, client(`${server.url}/chat`), { port: "chat" });
    const adminPort = attach(cm, client(`${server.url}/admin`), { port: "admin", event: "rpc" });
    const main = client(server.url);
    const mainPort = attach(cm, main, { port: "main" });
    expect(await chatPort.request({ n: 1 })).toMatchObject({ where: "chat", n: 1 });
    expect(await adminPort.request({ n: 2 })).toMatchObject({ where: "admin", n: 2 });
    expect(chat.ports.size).toBe(1);
    expect(admin.ports.size).toBe(1);
    // Nobody attached the main namespace: its request finds no psession there and times out.
    await expect(mainPort.request({ n: 3 }, { timeout: 200 })).rejects.toBeInstanceOf(SessionTimeoutError);
    expect(errors).toEqual([]);
  });

  test("a hand-written Socket.IO peer (no psession) runs a dialogue and answers the server by echoing the sid", async () => {
    const server = await startServer();
    const { manager: sm, errors } = manager();
    attach(sm, server.io);
    sm.handle(async (_m, session) => {
      const answer = await session.send({ status: "needPassword" });
      return { status: answer.password === "123456" ? "on" : "denied" };
    });
    const raw = client(server.url, { auth: { id: "firmware" } });
    const inbox: Record<string, unknown>[] = [];
    raw.on("psession", (m: Record<string, unknown>) => {
      if (typeof m.sid === "number" && m.sid % 2 === 0) raw.emit("psession", { sid: m.sid, temperature: 21 });
      else inbox.push(m);
    });
    await whenConnected(raw);
    raw.emit("psession", { sid: 1, command: "turnOnLight" });
    await until(() => inbox.some((m) => m.status === "needPassword"));
    raw.emit("psession", { sid: 1, password: "123456" });
    await until(() => inbox.some((m) => m.status === "on"));
    expect(inbox.filter((m) => m.sid === 1).map((m) => m.status)).toEqual(["needPassword", "on"]);
    // The only other frame it saw is the server's hello, which it ignores (no sid).
    expect(inbox.filter((m) => m.sid === undefined)).toEqual([{ $hello: expect.any(String), $batch: 1 }]);
    expect(await sm.request("firmware", { command: "read" })).toMatchObject({ temperature: 21 });
    expect(errors).toEqual([]);
  });

  test("a port destroyed by the application: psession lets go of the socket, which stays the application's", async () => {
    const server = await startServer();
    const { manager: sm } = manager();
    const handle = attach(sm, server.io);
    sm.handle(() => ({ ok: true }));
    const { manager: cm } = manager();
    const socket = client(server.url, { auth: { id: "x" } });
    const port = attach(cm, socket, { port: "srv" });
    expect(await port.request({})).toMatchObject({ ok: true });
    const serverSocket = [...handle.ports.keys()][0]!;
    // The client's port goes: the socket is the application's again, and can be attached anew.
    port.destroy();
    expect(socket.connected).toBe(true);
    const again = attach(cm, socket, { port: "srv2" });
    expect(await again.request({})).toMatchObject({ ok: true });
    // The server's port goes: that connection is no longer answered by psession, but stays open.
    handle.portOf(serverSocket)!.destroy();
    expect(serverSocket.connected).toBe(true);
    const echoed = new Promise((resolve) => serverSocket.once("psession", resolve));
    const unanswered = again.request({ n: 1 }, { timeout: 200 }).catch((e: unknown) => e);
    expect(await echoed).toMatchObject({ n: 1 });
    expect(await unanswered).toBeInstanceOf(SessionTimeoutError);
  });

  test("a second connection under a live name supersedes the first (disconnected); a different client starts a fresh port", async () => {
    const server = await startServer();
    const { manager: sm, errors } = manager();
    const handle = attach(sm, server.io);
    const answer = (by: string) => {
      const { manager: m } = manager();
      m.handle(() => ({ by }));
      return m;
    };
    const first = client(server.url, { auth: { id: "tv" }, reconnection: false });
    attach(answer("first"), first);
    await whenConnected(first);
    expect(await sm.request("tv", {})).toMatchObject({ by: "first" });
    const port = sm.ports.get("tv");
    const kicked = new Promise<string>((resolve) => first.once("disconnect", resolve));
    const second = client(server.url, { auth: { id: "tv" } });
    attach(answer("second"), second);
    expect(await kicked).toBe("io server disconnect");
    // Another client (its hello names another incarnation): the name's port starts afresh.
    await until(() => sm.ports.get("tv") !== port && sm.ports.get("tv")?.attached === true);
    expect(await sm.request("tv", {})).toMatchObject({ by: "second" });
    expect(handle.ports.size).toBe(1);
    expect(errors).toEqual([]);
  });

  test("close() detaches psession and keeps the connections; close({ closeConnections: true }) ends them", async () => {
    const server = await startServer();
    const { manager: sm } = manager();
    const first = attach(sm, server.io);
    const socket = client(server.url, { auth: { id: "x" }, reconnection: false });
    await whenConnected(socket);
    await until(() => first.ports.size === 1);
    first.close();
    expect(sm.ports.has("x")).toBe(false);
    expect(socket.connected).toBe(true);
    const second = attach(sm, server.io); // adopts the connection again
    expect(second.ports.size).toBe(1);
    const closed = new Promise<string>((resolve) => socket.once("disconnect", resolve));
    second.close({ closeConnections: true });
    expect(await closed).toBe("io server disconnect");
  });

  test("options are checked once, at attach", async () => {
    const server = await startServer();
    const { manager: m } = manager();
    expect(() => attach(m, server.io, { event: "disconnect" })).toThrow(TypeError);
    expect(() => attach(m, server.io, { maxFrameBytes: 0 })).toThrow(RangeError);
    expect(() => attach(m, server.io, { heartbeat: { interval: 10 } } as never)).toThrow(/pingInterval/);
    expect(() => attach(m, server.io, { cluster: true })).toThrow(/redis-adapter/);
    const socket = client(server.url, { autoConnect: false });
    expect(() => attach(m, socket, { event: "" })).toThrow(TypeError);
    const port = attach(m, socket, { port: "c" });
    expect(() => attach(m, socket, { port: "d" })).toThrow(/already attached/);
    port.destroy();
  });
});
