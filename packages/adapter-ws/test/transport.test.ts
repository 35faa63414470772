// SocketTransport against the written Transport contract (docs/adapters.md): listeners, role,
// channel, closing, and what a second attach of the same socket does.
import { attach, SocketTransport } from "@psession/ws";
import { SessionChannelError, SessionInvalidError } from "psession";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, startServer, teardown, until } from "./helpers.js";

afterEach(teardown);

test("any number of message and close listeners; each unsubscribe removes only its own", async () => {
  const { url, nextConnection } = await startServer();
  const accepted = nextConnection();
  const ws = await openSocket(url);
  const serverSide = await accepted;
  const t = new SocketTransport(ws, { role: "client" });
  expect(t.role).toBe("client");
  expect(t.channel).toBe(ws);
  const got: string[] = [];
  t.onMessage((m) => void got.push(`a:${(m as { n: number }).n}`));
  const offB = t.onMessage((m) => void got.push(`b:${(m as { n: number }).n}`));
  const closes: string[] = [];
  t.onClose(() => void closes.push("one"));
  const offTwo = t.onClose(() => void closes.push("two"));
  t.onClose((reason) => void closes.push(`three:${(reason as SessionChannelError).code}`));
  serverSide.send(JSON.stringify({ n: 1 }));
  await until(() => got.length === 2);
  offB();
  offB(); // idempotent
  offTwo();
  serverSide.send(JSON.stringify({ n: 2 }));
  await until(() => got.length === 3);
  expect(got).toEqual(["a:1", "b:1", "a:2"]);
  serverSide.close(4001, "bye");
  await until(() => closes.length === 2);
  expect(closes).toEqual(["one", "three:CLOSED"]);
  expect(t.closed).toBe(true);
  expect(() => t.send({})).toThrow(SessionChannelError);
});

test("one socket, one attach: a second attach (same or another manager) throws and adds no listener", async () => {
  const { wss, url } = await startServer();
  attach(manager(), wss);
  const ws = await openSocket(url);
  const client = manager();
  const port = attach(client, ws, { port: "first" });
  const counts = ["message", "close", "error", "open"].map((e) => (ws as WebSocket).listenerCount(e));
  expect(() => attach(client, ws, { port: "second" })).toThrow(SessionInvalidError);
  expect(() => attach(manager(), ws)).toThrow(/already attached to port "first"/);
  expect(["message", "close", "error", "open"].map((e) => (ws as WebSocket).listenerCount(e))).toEqual(counts);
  expect(client.ports.has("second")).toBe(false);
  expect(port.attached).toBe(true);
});
