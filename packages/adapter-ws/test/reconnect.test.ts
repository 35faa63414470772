// reconnect: true keeps a port's sessions across sockets; a send with retries left re-sends on the
// new socket and completes.
import { attach, whenOpen } from "@psession/ws";
import { SessionAbortError } from "psession";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, socket, startServer, teardown, until } from "./helpers.js";

afterEach(teardown);

test("a client re-attaching a new socket keeps its port; a waiting send with retries re-sends and completes", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss);
  const seenOn: string[] = [];
  server.handle((m, session) => {
    seenOn.push(session.port);
    // The first connection drops before answering, like a network failure.
    if (seenOn.length === 1) {
      for (const [s, p] of handle.ports) if (p.name === session.port) s.terminate();
      return new Promise(() => {});
    }
    return { n: m.n, answeredOn: session.port };
  });

  const client = manager({ sessionTimeout: 60_000 });
  const ws1 = await openSocket(url);
  const port1 = attach(client, ws1, { port: "api", reconnect: true });
  // Reconnect on close, as an application would.
  let ws2: WebSocket | undefined;
  ws1.on("close", () => {
    ws2 = socket(url);
    void whenOpen(ws2).then(() => attach(client, ws2!, { port: "api", reconnect: true }));
  });
  // Without retries a send cannot survive the drop: it fails at once.
  const noRetry = port1.request({ n: 0 }, { retryCount: 0 }).catch((e: unknown) => e);
  const started = Date.now();
  const reply = await port1.request({ n: 7 }, { retryCount: 5, retryInterval: 100, timeout: 5000 });
  expect(Date.now() - started).toBeLessThan(3000);
  expect(reply.n).toBe(7);
  expect(await noRetry).toBeInstanceOf(SessionAbortError);
  // Same port object, now bound to the second socket; the server saw two different connections.
  expect(client.ports.get("api")).toBe(port1);
  expect(port1.attached).toBe(true);
  expect(reply.answeredOn).toBe(seenOn.at(-1));
  expect(new Set(seenOn).size).toBe(2);
  await until(() => client.size === 0);
  // The second socket carries new sessions too.
  expect((await port1.request({ n: 8 })).n).toBe(8);
  expect(ws2!.readyState).toBe(ws2!.OPEN);
});

test("a long-lived session (multi-turn) survives a reconnect on both sides with a stable portName", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  // The server names ports by a client id, so a reconnecting client finds its port (and sessions) again.
  const handle = attach<WebSocket>(server, wss, {
    reconnect: true,
    portName: (_socket, request) => new URL(request.url ?? "/", "http://x").searchParams.get("id") ?? "anonymous",
  });
  server.handle(async (m, session) => {
    // Retries left: this send outlives a dropped connection (without them it would abort at the drop).
    const second = await session.send({ step: 1, of: m.job }, { retryCount: 5, retryInterval: 100 });
    return { step: 2, total: m.base + second.add };
  });

  const client = manager({ sessionTimeout: 60_000 });
  const ws1 = await openSocket(`${url}/?id=device-42`);
  const port = attach(client, ws1, { reconnect: true });
  await until(() => handle.ports.size === 1);
  expect([...handle.ports.values()][0]!.name).toBe("device-42");
  const serverPort = server.ports.get("device-42")!;

  const session = client.createSession();
  expect(await session.send({ job: "sum", base: 40 })).toMatchObject({ step: 1, of: "sum" });
  ws1.terminate();
  await until(() => !port.attached && !serverPort.attached);
  // Both halves of the dialogue are parked, not aborted (a re-sent step 1 is dropped as a duplicate).
  expect(client.size).toBe(1);
  expect(server.size).toBe(1);

  const ws2 = await openSocket(`${url}/?id=device-42`);
  attach(client, ws2, { reconnect: true });
  await until(() => serverPort.attached);
  expect(server.ports.get("device-42")).toBe(serverPort);
  expect(await session.send({ add: 2 })).toMatchObject({ step: 2, total: 42 });
  session.end();
  expect(client.errors).toEqual([]);
  expect(server.errors).toEqual([]);
});

test("a new connection under an open connection's port name takes the port over; the old one is closed", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss, {
    portName: (_socket, request) => new URL(request.url ?? "/", "http://x").searchParams.get("id") ?? "anonymous",
  });
  server.handle((m) => ({ n: m.n }));
  const first = await openSocket(`${url}/?id=kiosk`);
  const firstClosed = new Promise<[number, string]>((resolve) =>
    first.on("close", (code, reason) => resolve([code, reason.toString()])),
  );
  const a = manager();
  a.handle(() => ({ who: "a" }));
  attach(a, first);
  await until(() => handle.ports.size === 1);
  const port = server.ports.get("kiosk")!;

  const b = manager();
  b.handle(() => ({ who: "b" }));
  const second = attach(b, await openSocket(`${url}/?id=kiosk`));
  expect(await firstClosed).toEqual([1000, "superseded by a newer connection"]);
  expect(server.ports.get("kiosk")).toBe(port);
  expect(handle.ports.size).toBe(1);
  expect(await second.request({ n: 3 })).toMatchObject({ n: 3 });
  expect(await port.request({ n: 4 })).toMatchObject({ who: "b" }); // the server's port now reaches b
  expect(server.errors).toEqual([]);
});
