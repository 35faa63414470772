// Frames the serializer cannot read, binary frames for JSON and frames over maxPayload: reported on
// the manager's "error" event with the port, never thrown, never harming other connections.
import { attach, type Serializer } from "@psession/ws";
import { Packr } from "msgpackr";
import { SessionChannelError, SessionSendError } from "psession";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, openSocket, startServer, teardown, until } from "./helpers.js";

afterEach(teardown);

// A class instance whose methods use `this`: the adapter must call them as methods.
class MsgpackSerializer implements Serializer {
  private readonly packr = new Packr({ useRecords: false });
  encode(message: unknown) {
    return this.packr.pack(message);
  }
  decode(data: string | Uint8Array) {
    if (typeof data === "string") throw new TypeError("text frame, but msgpack expects binary frames");
    return this.packr.unpack(data);
  }
}
const msgpack = new MsgpackSerializer();

test("bad frames on one connection are reported with its port; that connection and the others keep working", async () => {
  const { wss, url, nextConnection } = await startServer();
  const server = manager();
  const errorPorts: unknown[] = [];
  server.on("error", (_e, port) => void errorPorts.push(port));
  const handle = attach<WebSocket>(server, wss);
  server.handle((m) => ({ ok: m.n }));
  const accepted = nextConnection();
  const badWs = await openSocket(url);
  const bad = manager();
  const badPort = attach(bad, badWs);
  const badServerPort = handle.portOf(await accepted)!;
  const good = manager();
  const goodPort = attach(good, await openSocket(url));

  badWs.send("{ not json");
  badWs.send(Buffer.from('{"sid":1}')); // binary frame: JSON wants text
  badWs.send("");
  expect(await badPort.request({ n: 1 })).toMatchObject({ ok: 1 });
  expect(await goodPort.request({ n: 2 })).toMatchObject({ ok: 2 });

  expect(server.errors).toHaveLength(3);
  for (const error of server.errors) {
    expect(error).toBeInstanceOf(SessionChannelError);
    expect((error as SessionChannelError).code).toBe("DECODE_FAILED");
  }
  expect(errorPorts).toEqual([badServerPort, badServerPort, badServerPort]);
  expect(server.errors[0]!.message).toMatch(/text frame dropped: the serializer could not decode it \(.*JSON/);
  expect(server.errors[1]!.message).toMatch(/binary frame dropped: .*JSON serializer expects text frames/);
  expect(server.size).toBe(0);
});

test("a frame over maxPayload closes only its own connection, reported with the port", async () => {
  const { wss, url, nextConnection } = await startServer({ maxPayload: 1024 });
  const server = manager();
  const reported: unknown[] = [];
  server.on("error", (_e, port) => void reported.push(port));
  const handle = attach<WebSocket>(server, wss);
  server.handle((m) => ({ size: String(m.blob ?? "").length }));
  const accepted = nextConnection();
  const big = manager();
  const bigPort = attach(big, await openSocket(url));
  const bigServerPort = handle.portOf(await accepted)!;
  const small = manager();
  const smallPort = attach(small, await openSocket(url));

  const error = await bigPort.request({ blob: "x".repeat(4096) }).catch((e: unknown) => e);
  expect((error as Error).name).toBe("SessionAbortError"); // its connection was closed (1009)
  await until(() => server.errors.length > 0);
  expect(server.errors[0]!.message).toMatch(/WebSocket error: Max payload size exceeded/);
  expect((server.errors[0] as SessionChannelError).code).toBe("FRAME_TOO_LARGE");
  expect(reported[0]).toBe(bigServerPort);
  await until(() => handle.ports.size === 1);
  expect(await smallPort.request({ blob: "y".repeat(100) })).toMatchObject({ size: 100 });
});

test("binary codecs work end to end (msgpackr), and a text frame for msgpack is reported", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  attach(server, wss, { serializer: msgpack });
  server.handle(async (m, session) => {
    const more = await session.send({ got: m.bytes.length, when: m.when });
    return { sum: more.values.reduce((a: number, b: number) => a + b, 0) };
  });
  const client = manager();
  const ws = await openSocket(url);
  const port = attach(client, ws, { serializer: msgpack });
  const session = client.createSession(port);
  const when = new Date(1_700_000_000_000);
  const first = await session.send({ bytes: new Uint8Array([1, 2, 3, 4]), when });
  expect(first.got).toBe(4);
  expect(first.when).toEqual(when); // a Date survives: msgpack, not JSON
  expect((await session.send({ values: [1, 2, 3] })).sum).toBe(6);
  session.end();

  ws.send("text is not msgpack");
  await until(() => server.errors.length === 1);
  expect(server.errors[0]!.message).toMatch(/text frame dropped: .*msgpack expects binary frames/);
  expect(await port.request({ bytes: new Uint8Array(1) })).toMatchObject({ got: 1 });
});

test("a message the serializer cannot encode fails that send at once", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  attach(server, wss);
  server.handle(() => ({}));
  const client = manager();
  const port = attach(client, await openSocket(url));
  const error = await port.request({ big: 1n }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SessionSendError);
  expect((error as Error).message).toMatch(/could not send: .*BigInt/);
  expect(await port.request({ fine: 1 })).toEqual(expect.objectContaining({ sid: expect.any(Number) }));
});
