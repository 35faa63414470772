// A connection that closes or errors fails its sessions at once (SessionAbortError), never by timeout;
// a send while the socket connects waits for it; a send on a closing or closed socket fails at once.
import { attach, SocketTransport } from "@psession/ws";
import { SessionAbortError, SessionChannelError } from "psession";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, socket, startServer, tcpOf, teardown, until } from "./helpers.js";

afterEach(teardown);

const never = () => new Promise<never>(() => {});

test("client drops mid-session: both ends' pending sessions abort within milliseconds, other connections live on", async () => {
  const { wss, url } = await startServer();
  const server = manager({ sessionTimeout: 60_000 });
  const handle = attach<WebSocket>(server, wss);
  let dialoguesStarted = 0;
  server.handle(async (m, session) => {
    if (m.kind === "dialogue") {
      dialoguesStarted++;
      await session.send({ step: 1 }); // the client never sends turn 2
    }
    return never();
  });

  const doomed = manager({ sessionTimeout: 60_000 });
  doomed.handle(never);
  const ws = await openSocket(url);
  const port = attach(doomed, ws);
  const other = manager();
  const otherWs = await openSocket(url);
  const otherPort = attach(other, otherWs);
  await until(() => handle.ports.size === 2);
  const serverPort = [...handle.ports.values()].find((p) => p.name === `127.0.0.1:${tcpOf(ws).localPort}`)!;
  expect(serverPort).toBeDefined();

  const dialogue = doomed.createSession(port);
  await dialogue.send({ kind: "dialogue" });
  const clientPending = Array.from({ length: 10 }, (_, i) => port.request({ i }).catch((e: unknown) => e));
  const serverPending = Array.from({ length: 10 }, (_, i) => serverPort.request({ i }).catch((e: unknown) => e));
  const turn2 = dialogue.send({ step: 2 }).catch((e: unknown) => e);
  await until(() => server.size === 21 && doomed.size === 21);
  expect(dialoguesStarted).toBe(1);

  const started = Date.now();
  ws.terminate();
  const results = await Promise.all([...clientPending, ...serverPending, turn2]);
  expect(Date.now() - started).toBeLessThan(500);
  for (const r of results) expect(r).toBeInstanceOf(SessionAbortError);
  await until(() => server.size === 0);
  expect(server.ports.has(serverPort.name)).toBe(false);
  expect(handle.ports.size).toBe(1);
  expect(doomed.size).toBe(0);

  // The other connection is untouched.
  server.handle((m) => ({ ok: m.n }));
  expect(await otherPort.request({ n: 5 })).toMatchObject({ ok: 5 });
  expect(other.errors).toEqual([]);
});

test("server closes a connection: the client's pending sessions abort with the close as the cause", async () => {
  const { wss, url, nextConnection } = await startServer();
  const server = manager();
  attach(server, wss);
  server.handle(never);
  const client = manager({ sessionTimeout: 60_000 });
  const accepted = nextConnection();
  const ws = await openSocket(url);
  const port = attach(client, ws);
  const pending = port.request({ x: 1 }).catch((e: unknown) => e);
  await until(() => server.size === 1);
  const started = Date.now();
  (await accepted).close(4000, "maintenance");
  const error = await pending;
  expect(Date.now() - started).toBeLessThan(500);
  expect(error).toBeInstanceOf(SessionAbortError);
  expect(String((error as Error).cause)).toMatch(/code 4000, "maintenance"/);
});

test("a socket error (protocol violation) is reported with the port and aborts at once", async () => {
  const { wss, url, nextConnection } = await startServer();
  const server = manager({ sessionTimeout: 60_000 });
  const handle = attach<WebSocket>(server, wss);
  const client = manager();
  client.handle(never);
  const accepted = nextConnection();
  const ws = await openSocket(url);
  attach(client, ws);
  const serverSocket = await accepted;
  const port = handle.portOf(serverSocket)!;
  const pending = port.request({ x: 1 }).catch((e: unknown) => e);
  await until(() => client.size === 1);
  // An unmasked client frame is a protocol error for the server's ws: it emits "error".
  tcpOf(ws).write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  const error = await pending;
  expect(error).toBeInstanceOf(SessionAbortError);
  await until(() => server.errors.length > 0);
  expect(server.errors[0]!.message).toMatch(/^WebSocket error: .*MASK/i);
  expect((server.errors[0] as SessionChannelError).code).toBe("CLOSED");
  expect(server.errorPorts[0]).toBe(port);
});

test("a send while the socket connects waits for the open; on a closing or closed socket it fails at once", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  attach(server, wss);
  server.handle((m) => ({ echo: m.x }));
  const client = manager({ sessionTimeout: 60_000 });
  const ws = socket(url);
  const port = attach(client, ws);
  expect(ws.readyState).toBe(ws.CONNECTING);
  // Sent at once, before the socket opened: they wait for it, in order, and complete.
  const early = await Promise.all([port.request({ x: 1 }), port.request({ x: 2 })]);
  expect(early.map((r) => r.echo)).toEqual([1, 2]);
  ws.close();
  const t = Date.now();
  const closing = await port.request({ x: 3 }).catch((e: unknown) => e);
  expect(closing).toBeInstanceOf(SessionChannelError);
  expect((closing as SessionChannelError).code).toBe("NOT_OPEN");
  expect((closing as Error).message).toMatch(/WebSocket is not open \(readyState 2 CLOSING\)/);
  expect(Date.now() - t).toBeLessThan(1000);
  expect(client.size).toBe(0);
  expect(client.errors).toEqual([]);
});

test("a send waiting for a socket that never opens rejects with SessionChannelError CLOSED; a port's send fails at once", async () => {
  const { wss, url } = await startServer();
  await new Promise((resolve) => wss.close(resolve)); // nobody listens there any more
  const reported: Error[] = [];
  const transport = new SocketTransport(socket(url), { report: (e) => void reported.push(e) });
  const pending = transport.send({ x: 1 });
  expect(pending).toBeInstanceOf(Promise);
  const failure = await (pending as Promise<void>).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(SessionChannelError);
  expect((failure as SessionChannelError).code).toBe("CLOSED");
  expect((failure as Error).message).toMatch(/closed before it opened .*ECONNREFUSED/);
  expect(reported.map((e) => (e as SessionChannelError).code)).toEqual(["NOT_OPEN"]);

  const client = manager({ sessionTimeout: 60_000 });
  const port = attach(client, socket(url), { port: "nowhere" });
  const t = Date.now();
  const aborted = await port.request({ x: 1 }).catch((e: unknown) => e);
  expect(Date.now() - t).toBeLessThan(2000);
  expect(aborted).toBeInstanceOf(SessionAbortError);
});

test("attaching a socket that is already closed detaches the port at once", async () => {
  const { url } = await startServer();
  const client = manager();
  const ws = await openSocket(url);
  ws.close();
  await until(() => ws.readyState === ws.CLOSED);
  const port = attach(client, ws, { port: "late" });
  await until(() => port.destroyed);
  expect(client.ports.has("late")).toBe(false);
});

test("a client socket that cannot connect reports the error with its port and detaches it", async () => {
  const { wss, url } = await startServer();
  await new Promise((resolve) => wss.close(resolve)); // nobody listens there any more
  const client = manager();
  const ws = socket(url);
  const port = attach(client, ws, { port: "gone" });
  await until(() => client.errors.length > 0);
  expect(client.errors[0]!.message).toMatch(/^WebSocket error: .*ECONNREFUSED/);
  expect((client.errors[0] as SessionChannelError).code).toBe("NOT_OPEN");
  expect(client.errorPorts[0]).toBe(port);
  await until(() => port.destroyed);
});
