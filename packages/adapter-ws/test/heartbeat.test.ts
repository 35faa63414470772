// ws ping/pong heartbeats: a peer that stops answering is terminated and its sessions abort.
import { attach } from "@psession/ws";
import { SessionAbortError, type SessionChannelError } from "psession";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, sleep, startServer, teardown, until } from "./helpers.js";

afterEach(teardown);

const never = () => new Promise<never>(() => {});

test("server heartbeat terminates a silent client and aborts its sessions; a live client stays", async () => {
  const { wss, url } = await startServer();
  const server = manager({ sessionTimeout: 60_000 });
  const handle = attach<WebSocket>(server, wss, { heartbeat: { interval: 40, timeout: 60 } });
  server.handle(never);

  const silent = manager({ sessionTimeout: 60_000 });
  silent.handle(never);
  const silentWs = await openSocket(url, { autoPong: false }); // answers no ping
  const silentPort = attach(silent, silentWs);
  const live = manager();
  live.handle((m) => ({ back: m.b }));
  const livePort = attach(live, await openSocket(url));
  await until(() => handle.ports.size === 2);
  const serverSide = [...handle.ports.values()];

  const fromClient = silentPort.request({ a: 1 }).catch((e: unknown) => e);
  const toClients = Promise.all(
    serverSide.map((p) => p.request({ b: 1 }, { timeout: 60_000 }).catch((e: unknown) => e)),
  );
  const started = Date.now();
  const aborted = await fromClient;
  // Dead after at most interval + timeout (plus scheduling), not after the 60 s timeout.
  expect(Date.now() - started).toBeLessThan(1000);
  expect(aborted).toBeInstanceOf(SessionAbortError);
  await until(() => handle.ports.size === 1);
  const heartbeatErrors = server.errors.filter((e) => /heartbeat: no pong within 60 ms/.test(e.message));
  expect(heartbeatErrors).toHaveLength(1);

  // The server's sends: aborted on the silent connection, answered on the live one.
  const replies = await toClients;
  expect(replies.filter((r) => r instanceof SessionAbortError)).toHaveLength(1);
  expect(replies.filter((r) => (r as { back?: number }).back === 1)).toHaveLength(1);

  // The live client keeps answering pings interval after interval and still works both ways.
  await sleep(250);
  expect(handle.ports.size).toBe(1);
  server.handle((m) => ({ ok: m.n }));
  expect(await livePort.request({ n: 2 })).toMatchObject({ ok: 2 });
  expect(await [...handle.ports.values()][0]!.request({ b: 3 })).toMatchObject({ back: 3 });
  expect(live.errors).toEqual([]);
  expect(server.errors).toEqual(heartbeatErrors);
});

test("client heartbeat detects a server that stopped answering pings", async () => {
  const { wss, url } = await startServer({ autoPong: false });
  const server = manager();
  attach(server, wss);
  server.handle(never);
  const client = manager({ sessionTimeout: 60_000 });
  const port = attach(client, await openSocket(url), { heartbeat: { interval: 30 } });
  const started = Date.now();
  const error = await port.request({ x: 1 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SessionAbortError);
  expect(Date.now() - started).toBeLessThan(1000);
  expect(String((error as Error).cause)).toMatch(/heartbeat: no pong within 30 ms/);
  expect(client.errors.some((e) => /heartbeat/.test(e.message))).toBe(true);
});

test("heartbeat options are validated", async () => {
  const { url, wss } = await startServer();
  const client = manager();
  const ws = await openSocket(url);
  expect(() => attach(client, ws, { heartbeat: { interval: 0 } })).toThrow(/heartbeat.interval/);
  expect(() => attach(client, ws, { heartbeat: { interval: 10, timeout: -1 } })).toThrow(/heartbeat.timeout/);
  expect(() => attach(manager(), wss, { heartbeat: { interval: Number.NaN } })).toThrow(RangeError);
});

// Issue 15 item 11: the timeout counts from the ping, so an equal or smaller timeout never closes
// a healthy idle connection; it still catches a silent peer.
test.each([
  ["equal to", { interval: 40, timeout: 40 }],
  ["smaller than", { interval: 40, timeout: 15 }],
])(
  "a timeout %s the interval keeps healthy idle connections up, both ends, and still drops a silent peer",
  async (_what, heartbeat) => {
    const { wss, url } = await startServer();
    const server = manager({ sessionTimeout: 60_000 });
    const handle = attach<WebSocket>(server, wss, { heartbeat });
    server.handle((m) => ({ n: m.n }));
    const client = manager();
    const port = attach(client, await openSocket(url), { heartbeat });
    const silent = manager();
    attach(silent, await openSocket(url, { autoPong: false }));
    await until(() => handle.ports.size === 2);
    await sleep(500); // more than ten intervals of idleness
    expect(handle.ports.size).toBe(1);
    expect(port.attached).toBe(true);
    expect(await port.request({ n: 1 })).toMatchObject({ n: 1 });
    expect(client.errors).toEqual([]);
    expect(server.errors.map((e) => (e as SessionChannelError).code)).toEqual(["HEARTBEAT_TIMEOUT"]);
  },
);
