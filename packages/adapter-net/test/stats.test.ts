// port.stats() bytes from the socket's own counters, and lastSeen from the heartbeat.
import net from "node:net";
import { attach, type Framing, type NetServerAttachOptions } from "@psession/net";
import { type Port, SessionManager } from "psession";
import { describe, expect, test } from "vitest";
import { track } from "./cleanup.js";
import { connected, listen, sleep, until } from "./helpers.js";

function manager() {
  const m = track(new SessionManager({ sessionTimeout: 5000 }));
  const errors: Error[] = [];
  m.on("error", (e) => void errors.push(e));
  return { m, errors };
}

/** A psession echo server, its manager, and the server-side port of each connection. */
async function echoServer(options: NetServerAttachOptions = {}) {
  const { m, errors } = manager();
  m.handle((msg) => msg);
  const ports: Port[] = [];
  const srv = track(net.createServer());
  const attachment = attach(m, srv, { ...options, onConnection: (port) => void ports.push(port) });
  const { connect } = await listen("tcp", srv);
  return { m, errors, attachment, ports, connect: () => track(connect()) };
}

const message = (i: number) => ({ text: "x".repeat(300), i });
const COUNT = 5;
/** What COUNT messages weigh as JSON, sids and framing left out: the counts must be above it. */
const PAYLOAD = JSON.stringify(message(0)).length * COUNT;

describe.each<Framing>(["ndjson", "length-prefix"])("%s", (framing) => {
  test("bytesSent / bytesReceived are the socket's counters on both ends, kept after the connection closes", async () => {
    const server = await echoServer({ framing });
    const { m: client, errors } = manager();
    const socket = server.connect();
    const port = attach(client, socket, { framing });
    await connected(socket);
    for (let i = 0; i < COUNT; i++) expect(await port.request(message(i))).toMatchObject({ i });
    await until(() => server.ports.length === 1);
    const serverPort = server.ports[0]!;

    const c = port.stats();
    const s = serverPort.stats();
    expect(c.bytesSent).toBeGreaterThan(PAYLOAD);
    expect(c.bytesReceived).toBeGreaterThan(PAYLOAD); // the echoes
    expect(s.bytesSent).toBeGreaterThan(PAYLOAD);
    expect(s.bytesReceived).toBeGreaterThan(PAYLOAD);
    expect(c.bytesSent).toBe(socket.bytesWritten);
    expect(c.bytesReceived).toBe(socket.bytesRead);
    // Each end reads what the other wrote.
    await until(() => serverPort.stats().bytesReceived === port.stats().bytesSent);
    expect(serverPort.stats().bytesSent).toBe(port.stats().bytesReceived);

    const clientTotals = client.stats();
    const serverTotals = server.m.stats();
    socket.destroy();
    await until(() => port.state !== "attached" && serverPort.destroyed);
    expect(client.stats().bytesSent).toBeGreaterThanOrEqual(clientTotals.bytesSent!);
    expect(client.stats().bytesReceived).toBeGreaterThanOrEqual(clientTotals.bytesReceived!);
    expect(server.m.stats().bytesSent).toBeGreaterThanOrEqual(serverTotals.bytesSent!);
    expect(server.m.stats().bytesReceived).toBeGreaterThanOrEqual(serverTotals.bytesReceived!);
    expect(port.stats().bytesSent).toBe(c.bytesSent);
    expect(errors).toEqual([]);
    expect(server.errors).toEqual([]);
  });
});

test("reconnect: a parked port keeps the first connection's bytes and adds the next one's", async () => {
  const server = await echoServer({ reconnect: true, portName: () => "the-client" });
  const { m: client } = manager();
  const first = server.connect();
  const port = attach(client, first, { reconnect: true });
  for (let i = 0; i < COUNT; i++) await port.request(message(i));
  const before = port.stats();
  expect(before.bytesSent).toBeGreaterThan(PAYLOAD);

  first.destroy();
  await until(() => !port.attached);
  const parked = port.stats();
  expect(parked.bytesSent).toBeGreaterThanOrEqual(before.bytesSent!);
  expect(parked.bytesReceived).toBeGreaterThanOrEqual(before.bytesReceived!);
  const serverParked = server.m.stats();

  attach(client, server.connect(), { reconnect: true });
  for (let i = 0; i < COUNT; i++) await port.request(message(i));
  const after = port.stats();
  expect(after.bytesSent).toBeGreaterThan(parked.bytesSent! + PAYLOAD);
  expect(after.bytesReceived).toBeGreaterThan(parked.bytesReceived! + PAYLOAD);
  expect(client.stats().bytesSent).toBe(after.bytesSent);
  // The server's port for "the-client" was parked too, then carried on.
  expect(server.m.stats().bytesReceived).toBeGreaterThan(serverParked.bytesReceived! + PAYLOAD);
});

test("lastSeen advances while only heartbeats flow", async () => {
  const heartbeat = { interval: 30, timeout: 500 };
  const server = await echoServer({ heartbeat });
  const { m: client, errors } = manager();
  const socket = server.connect();
  const port = attach(client, socket, { heartbeat });
  await port.request({ hello: 1 });
  await until(() => server.ports.length === 1);
  const serverPort = server.ports[0]!;
  await until(() => port.lastSeen !== undefined && serverPort.lastSeen !== undefined);
  const received = port.stats().messagesReceived;
  const clientSeen = port.lastSeen!;
  const serverSeen = serverPort.lastSeen!;
  const bytes = port.stats().bytesReceived!;

  await sleep(250); // $hb pings and pongs only
  await until(() => port.lastSeen! > clientSeen && serverPort.lastSeen! > serverSeen);
  expect(port.stats().messagesReceived).toBe(received);
  expect(port.stats().bytesReceived).toBeGreaterThan(bytes); // the heartbeat frames are counted
  expect(Date.now() - port.lastSeen!).toBeLessThan(200);
  expect(Date.now() - serverPort.lastSeen!).toBeLessThan(200);
  expect(errors).toEqual([]);
});
