// port.stats() bytes: the TCP connection under engine.io's WebSocket transport, on both ends.
import { attach } from "@psession/socketio";
import type { Port } from "psession";
import type { Socket } from "socket.io-client";
import { afterEach, describe, expect, test } from "vitest";
import { client, manager, startServer, teardown, until, whenConnected } from "./helpers.js";

afterEach(teardown);

const message = (i: number) => ({ text: "x".repeat(300), i });
const COUNT = 5;
/** What COUNT messages weigh as JSON, sids and framing left out: the counts must be above it. */
const PAYLOAD = JSON.stringify(message(0)).length * COUNT;

/** Drops the connection as a network failure would (engine.io-client lets go of its WebSocket at once). */
const drop = (socket: Socket) => (socket.io.engine as unknown as { close(): void }).close();
const engineTransport = (socket: Socket) => socket.io.engine.transport.name;

async function echoPair(transports: string[] | undefined, options: { reconnect?: boolean } = {}) {
  const server = await startServer();
  const { manager: sm, errors: serverErrors } = manager();
  const handle = attach(sm, server.io, options);
  sm.handle((m) => m);
  const { manager: cm, errors: clientErrors } = manager();
  const socket = client(server.url, { auth: { id: "dev" }, ...(transports ? { transports } : {}) });
  const port = attach(cm, socket, { port: "server", ...options });
  await whenConnected(socket);
  await until(() => handle.ports.size === 1);
  const serverPort = (): Port => sm.ports.get("dev")!;
  return { server, sm, cm, socket, port, serverPort, handle, serverErrors, clientErrors };
}

describe.each([
  ["websocket only", ["websocket"]],
  ["long-polling upgraded to a WebSocket", undefined],
])("%s", (_name, transports) => {
  test("bytesSent / bytesReceived on both ends; the totals keep them after the connection drops", async () => {
    const pair = await echoPair(transports);
    const { sm, cm, socket, port } = pair;
    await until(() => engineTransport(socket) === "websocket", 5000, "the WebSocket");
    // Counted from the WebSocket's opening: the server sees it once the upgrade is done.
    await until(() => (pair.serverPort().stats().bytesReceived ?? 0) > 0, 5000, "the server's counts");

    for (let i = 0; i < COUNT; i++) expect(await port.request(message(i))).toMatchObject({ i });
    const serverPort = pair.serverPort();
    const c = port.stats();
    const s = serverPort.stats();
    expect(c.bytesSent).toBeGreaterThan(PAYLOAD);
    expect(c.bytesReceived).toBeGreaterThan(PAYLOAD); // the echoes
    expect(s.bytesSent).toBeGreaterThan(PAYLOAD);
    expect(s.bytesReceived).toBeGreaterThan(PAYLOAD);

    const clientTotals = cm.stats();
    const serverTotals = sm.stats();
    drop(socket); // engine.io-client drops its WebSocket before Socket.IO says "disconnect"
    await until(() => port.destroyed && serverPort.destroyed, 5000, "both ports to end");
    expect(cm.stats().bytesSent).toBeGreaterThanOrEqual(clientTotals.bytesSent!);
    expect(cm.stats().bytesReceived).toBeGreaterThanOrEqual(clientTotals.bytesReceived!);
    expect(sm.stats().bytesSent).toBeGreaterThanOrEqual(serverTotals.bytesSent!);
    expect(sm.stats().bytesReceived).toBeGreaterThanOrEqual(serverTotals.bytesReceived!);
    expect(port.stats().bytesSent).toBeGreaterThanOrEqual(c.bytesSent!);
    expect(pair.clientErrors).toEqual([]);
    expect(pair.serverErrors).toEqual([]);
  });

  test("a connection that drops before anyone asked for statistics still counts", async () => {
    const { socket, port, cm, sm, serverPort } = await echoPair(transports);
    await until(() => engineTransport(socket) === "websocket", 5000, "the WebSocket");
    for (let i = 0; i < COUNT; i++) await port.request(message(i));
    const ended = serverPort();
    drop(socket);
    await until(() => port.destroyed && ended.destroyed, 5000, "both ports to end");
    expect(port.stats().bytesSent).toBeGreaterThan(PAYLOAD);
    expect(port.stats().bytesReceived).toBeGreaterThan(PAYLOAD);
    expect(cm.stats().bytesSent).toBe(port.stats().bytesSent);
    expect(sm.stats().bytesSent).toBeGreaterThan(PAYLOAD);
    expect(sm.stats().bytesReceived).toBeGreaterThan(PAYLOAD);
  });
});

test("reconnect: the parked ports keep the first connection's bytes and add the next one's", async () => {
  const { sm, cm, socket, port, serverPort } = await echoPair(["websocket"], { reconnect: true });
  for (let i = 0; i < COUNT; i++) await port.request(message(i));
  const before = port.stats();
  const serverBefore = serverPort().stats();
  expect(before.bytesSent).toBeGreaterThan(PAYLOAD);
  expect(serverBefore.bytesReceived).toBeGreaterThan(PAYLOAD);

  drop(socket);
  await until(() => !port.attached);
  expect(port.stats().bytesSent).toBeGreaterThanOrEqual(before.bytesSent!);
  expect(port.stats().bytesReceived).toBeGreaterThanOrEqual(before.bytesReceived!);

  // Socket.IO reconnects by itself; the same ports carry on.
  await until(() => port.attached && serverPort().attached, 5000, "the reconnection");
  for (let i = 0; i < COUNT; i++) await port.request(message(i));
  const after = port.stats();
  expect(after.bytesSent).toBeGreaterThan(before.bytesSent! + PAYLOAD);
  expect(after.bytesReceived).toBeGreaterThan(before.bytesReceived! + PAYLOAD);
  expect(serverPort().stats().bytesReceived).toBeGreaterThan(serverBefore.bytesReceived! + PAYLOAD);
  expect(cm.stats().bytesSent).toBe(after.bytesSent);
  expect(sm.stats().bytesSent).toBe(serverPort().stats().bytesSent);
});

test("long-polling only: nothing can be counted", async () => {
  const { port, serverPort } = await echoPair(["polling"]);
  for (let i = 0; i < COUNT; i++) await port.request(message(i));
  // Not counted is not zero: the statistics say undefined.
  expect(port.stats().bytesSent).toBeUndefined();
  expect(port.stats().bytesReceived).toBeUndefined();
  expect(serverPort().stats().bytesSent).toBeUndefined();
  expect(serverPort().stats().bytesReceived).toBeUndefined();
});
