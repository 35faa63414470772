// port.stats() bytes from the TCP socket under each `ws` socket, and lastSeen from the heartbeat.
import { attach } from "@psession/ws";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, sleep, startServer, tcpOf, teardown, until } from "./helpers.js";

afterEach(teardown);

const message = (i: number) => ({ text: "x".repeat(300), i });
const COUNT = 5;
/** What COUNT messages weigh as JSON, sids and framing left out: the counts must be above it. */
const PAYLOAD = JSON.stringify(message(0)).length * COUNT;

test("bytesSent / bytesReceived: the socket's counters on both ends, kept in the totals after the connection closes", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss);
  server.handle((m) => m);
  const client = manager();
  const ws = await openSocket(url);
  // The socket is open already: its HTTP upgrade is not this transport's.
  const wrote = tcpOf(ws).bytesWritten;
  const read = tcpOf(ws).bytesRead;
  expect(wrote).toBeGreaterThan(0);
  const port = attach(client, ws);
  expect(port.stats().bytesSent).toBe(0);
  await until(() => handle.ports.size === 1);
  const serverPort = [...handle.ports.values()][0]!;

  for (let i = 0; i < COUNT; i++) expect(await port.request(message(i))).toMatchObject({ i });

  const c = port.stats();
  const s = serverPort.stats();
  expect(c.bytesSent).toBeGreaterThan(PAYLOAD);
  expect(c.bytesReceived).toBeGreaterThan(PAYLOAD); // the echoes
  expect(s.bytesSent).toBeGreaterThan(PAYLOAD);
  expect(s.bytesReceived).toBeGreaterThan(PAYLOAD);
  // The TCP socket's own counters, from the attach on.
  expect(port.stats().bytesSent).toBe(tcpOf(ws).bytesWritten - wrote);
  expect(port.stats().bytesReceived).toBe(tcpOf(ws).bytesRead - read);

  // More traffic, more bytes.
  await port.request(message(COUNT));
  expect(port.stats().bytesSent).toBeGreaterThan(c.bytesSent! + PAYLOAD / COUNT);

  const clientTotals = client.stats();
  const serverTotals = server.stats();
  expect(clientTotals.bytesSent).toBe(port.stats().bytesSent);
  port.destroy(); // the client's port is done with the socket (it stays the application's) ...
  ws.close(); // ... which closes it: the server's port is destroyed
  await until(() => handle.ports.size === 0 && serverPort.destroyed);
  expect(client.stats().bytesSent).toBeGreaterThanOrEqual(clientTotals.bytesSent!);
  expect(client.stats().bytesReceived).toBeGreaterThanOrEqual(clientTotals.bytesReceived!);
  expect(server.stats().bytesSent).toBeGreaterThanOrEqual(serverTotals.bytesSent!);
  expect(server.stats().bytesReceived).toBeGreaterThanOrEqual(serverTotals.bytesReceived!);
  expect(port.stats().bytesSent).toBeGreaterThanOrEqual(clientTotals.bytesSent!);
  expect(serverPort.stats().bytesReceived).toBeGreaterThan(PAYLOAD);
  expect(client.errors).toEqual([]);
  expect(server.errors).toEqual([]);
});

test("reconnect: a parked port keeps the first connection's bytes and adds the next one's", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss);
  server.handle((m) => m);
  const client = manager();
  const first = await openSocket(url);
  const port = attach(client, first, { reconnect: true });
  for (let i = 0; i < COUNT; i++) await port.request(message(i));
  const before = port.stats();
  expect(before.bytesSent).toBeGreaterThan(PAYLOAD);

  first.terminate();
  await until(() => !port.attached);
  const parked = port.stats();
  expect(parked.state).toBe("detached");
  expect(parked.bytesSent).toBeGreaterThanOrEqual(before.bytesSent!);
  expect(parked.bytesReceived).toBeGreaterThanOrEqual(before.bytesReceived!);

  attach(client, await openSocket(url), { reconnect: true });
  for (let i = 0; i < COUNT; i++) await port.request(message(i));
  const after = port.stats();
  expect(after.bytesSent).toBeGreaterThan(parked.bytesSent! + PAYLOAD);
  expect(after.bytesReceived).toBeGreaterThan(parked.bytesReceived! + PAYLOAD);
  expect(client.stats().bytesSent).toBe(after.bytesSent);
  handle.close({ closeConnections: true });
});

test("lastSeen advances while only heartbeats flow", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss, { heartbeat: { interval: 30, timeout: 500 } });
  server.handle((m) => m);
  const client = manager();
  const port = attach(client, await openSocket(url), { heartbeat: { interval: 30, timeout: 500 } });
  await port.request({ hello: 1 });
  await until(() => handle.ports.size === 1);
  const serverPort = [...handle.ports.values()][0]!;
  await until(() => port.lastSeen !== undefined && serverPort.lastSeen !== undefined);
  const received = port.stats().messagesReceived;
  const clientSeen = port.lastSeen!;
  const serverSeen = serverPort.lastSeen!;

  await sleep(250); // pings and pongs only
  await until(() => port.lastSeen! > clientSeen && serverPort.lastSeen! > serverSeen);
  expect(port.stats().messagesReceived).toBe(received);
  expect(Date.now() - port.lastSeen!).toBeLessThan(200);
  expect(Date.now() - serverPort.lastSeen!).toBeLessThan(200);
  expect(port.stats().lastSeen).toBe(port.lastSeen);
});

test("without a heartbeat lastSeen is the port's own (the last message)", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  attach<WebSocket>(server, wss);
  server.handle((m) => m);
  const client = manager();
  const port = attach(client, await openSocket(url));
  const before = Date.now();
  await port.request({ hello: 1 });
  expect(port.lastSeen).toBeGreaterThanOrEqual(before - 1000);
});
