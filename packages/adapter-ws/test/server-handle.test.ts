// The server handle: per-connection ports, portName, close() detaching everything.
import { attach, type ServerHandle } from "@psession/ws";
import { SessionAbortError, type Port, type SessionManager } from "psession";
import type { WebSocket, WebSocketServer } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, startServer, tcpOf, teardown, until } from "./helpers.js";

afterEach(teardown);

test("close() detaches the server and every connection: ports destroyed, listeners removed, sockets left open", async () => {
  const { wss, url, nextConnection } = await startServer();
  const server = manager({ sessionTimeout: 60_000 });
  const before = wss.listenerCount("connection");
  const handle = attach<WebSocket>(server, wss);
  expect(wss.listenerCount("connection")).toBe(before + 1);
  const client = manager();
  client.handle(() => new Promise(() => {}));
  const accepted = nextConnection();
  const ws = await openSocket(url);
  const clientPort = attach(client, ws);
  const serverSocket = await accepted;
  const port = handle.portOf(serverSocket)!;
  expect(port.name).toBe(`127.0.0.1:${tcpOf(ws).localPort}`);
  expect(server.ports.get(port.name)).toBe(port);
  expect(serverSocket.listenerCount("message")).toBe(1);

  const pending = port.request({ x: 1 }).catch((e: unknown) => e);
  await until(() => client.size === 1);
  handle.close();
  expect(await pending).toBeInstanceOf(SessionAbortError);
  expect(port.destroyed).toBe(true);
  expect(handle.ports.size).toBe(0);
  expect(wss.listenerCount("connection")).toBe(before);
  expect(serverSocket.readyState).toBe(serverSocket.OPEN);

  // New connections get no port any more. The detached socket no longer reads for psession; only
  // our "error" and "close" listeners stay, until it closes, so that a late error is reported
  // instead of thrown (issue 15 item 1).
  const plain = nextConnection();
  await openSocket(url);
  const untouched = await plain;
  await new Promise((r) => setTimeout(r, 20));
  expect(server.ports.size).toBe(1); // only "default"
  for (const event of ["message", "pong"])
    expect(serverSocket.listenerCount(event)).toBe(untouched.listenerCount(event));
  expect(serverSocket.listenerCount("message")).toBe(0);
  for (const event of ["close", "error"])
    expect(serverSocket.listenerCount(event)).toBe(untouched.listenerCount(event) + 1);
  const closed = new Promise((resolve) => serverSocket.once("close", resolve));
  ws.close();
  await closed;
  await new Promise((r) => setTimeout(r, 0));
  // Closed: exactly the listeners of a connection psession never saw (ws's own).
  for (const event of ["message", "close", "error", "pong"]) {
    expect(serverSocket.listenerCount(event)).toBe(untouched.listenerCount(event));
  }
  clientPort.destroy();
});

test("a throwing portName refuses that connection (reported) and leaves the others alone", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss, {
    portName: (_s, req) => {
      if (req.url?.includes("bad")) throw new Error("no id");
      return `user-${req.url?.slice(2)}`;
    },
  });
  server.handle(() => ({ ok: true }));
  const refused = await openSocket(`${url}/?bad`);
  const closed = new Promise<number>((resolve) => refused.on("close", (code) => resolve(code)));
  expect(await closed).toBe(1011);
  expect(server.errors[0]!.message).toMatch(/portName failed \(no id\)/);
  const client = manager();
  const port = attach(client, await openSocket(`${url}/?alice`));
  expect(await port.request({})).toMatchObject({ ok: true });
  expect([...handle.ports.values()].map((p) => p.name)).toEqual(["user-alice"]);
});

test("non-session messages reach manager 'message' with the port, on both sides", async () => {
  const { wss, url, nextConnection } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss);
  const serverSaw: [unknown, string][] = [];
  server.on("message", (m, port) => void serverSaw.push([m, port.name]));
  const client = manager();
  const clientSaw: unknown[] = [];
  client.on("message", (m) => void clientSaw.push(m));
  const accepted = nextConnection();
  const ws = await openSocket(url);
  attach(client, ws);
  const serverSocket = await accepted;
  ws.send(JSON.stringify({ type: "chat", text: "hi" }));
  serverSocket.send(JSON.stringify({ type: "news", text: "hello" }));
  await until(() => serverSaw.length === 1 && clientSaw.length === 1);
  expect(serverSaw).toEqual([[{ type: "chat", text: "hi" }, handle.portOf(serverSocket)!.name]]);
  expect(clientSaw).toEqual([{ type: "news", text: "hello" }]);
});

test("attach() rejects what is neither a WebSocket nor a WebSocketServer", () => {
  const m = manager();
  expect(() => attach(m, {} as never)).toThrow(TypeError);
  // Compile-time: a DOM WebSocket takes the client overload and gives a Port, a ws server a handle.
  const typed = (mgr: SessionManager, browser: globalThis.WebSocket, wss: WebSocketServer) => {
    const port: Port = attach(mgr, browser);
    const handle: ServerHandle<WebSocket> = attach<WebSocket>(mgr, wss);
    return [port, handle];
  };
  expect(typeof typed).toBe("function");
});
