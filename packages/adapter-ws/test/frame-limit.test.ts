// Issue 15 item 18: one frame limit for every adapter, 1 MiB by default (ws's own is 100 MiB),
// the same `maxFrameBytes` option as @psession/net, inbound and outbound.
import { attach } from "@psession/ws";
import { DEFAULT_MAX_FRAME_BYTES, SessionAbortError, SessionChannelError, SessionSendError } from "psession";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, startServer, teardown, until } from "./helpers.js";

afterEach(teardown);

const MiB = 1024 * 1024;

test("a server's connections refuse frames over 1 MiB by default, before buffering them, and only that connection closes", async () => {
  const { wss, url, nextConnection } = await startServer(); // ws's default maxPayload: 100 MiB
  const server = manager();
  const handle = attach<WebSocket>(server, wss);
  expect(DEFAULT_MAX_FRAME_BYTES).toBe(MiB);
  expect(wss.options.maxPayload).toBe(MiB);
  server.handle((m) => ({ size: String(m.blob ?? "").length }));
  const accepted = nextConnection();
  const big = await openSocket(url);
  const bigServerSide = await accepted;
  const closed = new Promise<number>((resolve) => big.on("close", (code) => resolve(code)));
  const small = manager();
  const smallPort = attach(small, await openSocket(url));
  // A frame of exactly 1 MiB is fine (and, not being JSON, reported as undecodable).
  big.send("x".repeat(MiB));
  await until(() => server.errors.length === 1);
  expect((server.errors[0] as SessionChannelError).code).toBe("DECODE_FAILED");
  // One byte more closes that connection (1009) and is reported as FRAME_TOO_LARGE.
  big.send("x".repeat(MiB + 1));
  expect(await closed).toBe(1009);
  await until(() => server.errors.length === 2);
  expect((server.errors[1] as SessionChannelError).code).toBe("FRAME_TOO_LARGE");
  expect(bigServerSide.readyState).toBe(bigServerSide.CLOSED);
  await until(() => handle.ports.size === 1);
  expect(await smallPort.request({ blob: "y".repeat(1000) })).toMatchObject({ size: 1000 });
});

test("maxFrameBytes raises (or lowers) the limit; a maxPayload the server was given on purpose is kept", async () => {
  const raised = await startServer();
  attach(manager(), raised.wss, { maxFrameBytes: 4 * MiB });
  expect(raised.wss.options.maxPayload).toBe(4 * MiB);
  const own = await startServer({ maxPayload: 2048 });
  attach(manager(), own.wss);
  expect(own.wss.options.maxPayload).toBe(2048);
  const server = manager();
  const lowered = await startServer();
  attach(server, lowered.wss, { maxFrameBytes: 100 });
  server.handle(() => ({}));
  const client = manager();
  const port = attach(client, await openSocket(lowered.url));
  expect(await port.request({ fits: "x".repeat(50) })).toEqual(expect.objectContaining({ sid: expect.any(Number) }));
  const error = await port.request({ blob: "x".repeat(200) }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SessionAbortError); // the server closed the connection (1009)
});

test("a message over maxFrameBytes is not sent: that send fails, the connection stays", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  attach(server, wss);
  server.handle((m) => ({ len: String(m.blob ?? "").length }));
  const client = manager();
  const port = attach(client, await openSocket(url), { maxFrameBytes: 1000 });
  const failure = await port.request({ blob: "é".repeat(600) }).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(SessionSendError);
  expect((failure as Error).message).toMatch(/message of 12\d\d bytes is over maxFrameBytes 1000: not sent/);
  expect(await port.request({ blob: "x".repeat(900) })).toMatchObject({ len: 900 });
  expect(server.errors).toEqual([]);
});

test("a client refuses an inbound frame over its maxFrameBytes: FRAME_TOO_LARGE, connection closed, pending sends abort", async () => {
  const { url, nextConnection } = await startServer();
  const accepted = nextConnection();
  const client = manager({ sessionTimeout: 60_000 });
  const port = attach(client, await openSocket(url), { maxFrameBytes: 1024 });
  const serverSide = await accepted;
  const pending = port.request({ q: 1 }).catch((e: unknown) => e);
  serverSide.send(JSON.stringify({ blob: "z".repeat(2000) }));
  expect(await pending).toBeInstanceOf(SessionAbortError);
  const tooLarge = client.errors.filter((e) => e instanceof SessionChannelError && e.code === "FRAME_TOO_LARGE");
  expect(tooLarge).toHaveLength(1);
  expect(tooLarge[0]!.message).toMatch(/a 20\d\d-byte frame is over maxFrameBytes 1024: connection closed/);
  await until(() => serverSide.readyState === serverSide.CLOSED);
});
