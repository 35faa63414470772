// Issue 15 item 1: a socket psession let go of (superseded, its port destroyed, re-attached while
// connecting) keeps our "error" listener until it closes, so a late error is reported, never an
// uncaught exception that takes the server down. The three crash reproductions.
import { attach } from "@psession/ws";
import { SessionChannelError } from "psession";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, socket, startServer, tcpOf, teardown, until } from "./helpers.js";

afterEach(teardown);

/** A masked client→server frame written by hand: `first` is FIN/RSV/opcode, then a short payload. */
function clientFrame(first: number, payload: Buffer): Buffer {
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const body = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([first, 0x80 | payload.length]), mask, body]);
}

const idFrom = (_socket: unknown, request: { url?: string | undefined }) =>
  new URL(request.url ?? "/", "http://x").searchParams.get("id") ?? "anonymous";

test("a superseded connection that then sends a frame with RSV2 set: reported, the server lives on", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss, { portName: idFrom });
  server.handle(() => ({ ok: true }));
  const first = await openSocket(`${url}/?id=twin`);
  await until(() => handle.ports.size === 1);
  const [firstServerSide] = [...handle.ports.keys()];
  // The first client stops reading, so it never answers the server's close frame.
  tcpOf(first).pause();
  const client = manager();
  const port = attach(client, await openSocket(`${url}/?id=twin`));
  await until(() => firstServerSide!.readyState === firstServerSide!.CLOSING);
  tcpOf(first).write(clientFrame(0x80 | 0x20 | 0x1, Buffer.from("hi"))); // FIN, RSV2, text
  await until(() => server.errors.length === 1);
  expect(server.errors[0]!.message).toMatch(/^WebSocket error: .*RSV2 and RSV3 must be clear/);
  expect(server.errors[0]).toBeInstanceOf(SessionChannelError);
  // No longer any port's connection: reported without one.
  expect(server.errorPorts[0]).toBeUndefined();
  expect(await port.request({})).toMatchObject({ ok: true });
});

test("a connection whose port was destroyed, then sends invalid UTF-8: reported, the server lives on", async () => {
  const { wss, url, nextConnection } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss);
  const accepted = nextConnection();
  const ws = await openSocket(url);
  const serverSide = await accepted;
  handle.portOf(serverSide)!.destroy();
  expect(serverSide.readyState).toBe(serverSide.OPEN); // handed over, not closed
  tcpOf(ws).write(clientFrame(0x81, Buffer.from([0xff, 0xfe])));
  await until(() => server.errors.length === 1);
  expect(server.errors[0]!.message).toMatch(/^WebSocket error: Invalid WebSocket frame: invalid UTF-8 sequence/);
  expect((server.errors[0] as SessionChannelError).code).toBe("CLOSED");
  // The server still accepts and serves.
  server.handle(() => ({ alive: true }));
  const client = manager();
  expect(await attach(client, await openSocket(url)).request({})).toMatchObject({ alive: true });
});

test("re-attaching a port while its old socket is still connecting, which then fails: reported, the port works on the new socket", async () => {
  const { wss, url } = await startServer();
  const dead = await startServer();
  await new Promise((resolve) => dead.wss.close(resolve)); // nobody listens there any more
  const server = manager();
  attach(server, wss);
  server.handle((m) => ({ n: m.n }));
  const client = manager();
  const doomed = socket(dead.url);
  const port = attach(client, doomed, { port: "api", reconnect: true });
  const replacement = socket(url);
  expect(doomed.readyState).toBe(doomed.CONNECTING);
  expect(attach(client, replacement, { port: "api", reconnect: true })).toBe(port);
  await until(() => client.errors.length === 1);
  expect(client.errors[0]!.message).toMatch(/^WebSocket error: .*ECONNREFUSED/);
  expect((client.errors[0] as SessionChannelError).code).toBe("NOT_OPEN");
  expect(await port.request({ n: 5 })).toMatchObject({ n: 5 });
});
