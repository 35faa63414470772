import { attach } from "@psession/socketio";
import { SessionChannelError, SessionSendError } from "psession";
import type { Socket as ServerSocket } from "socket.io";
import { afterEach, describe, expect, test } from "vitest";
import { client, manager, sleep, startServer, teardown, until, whenConnected } from "./helpers.js";

afterEach(teardown);

const channelErrors = (errors: Error[], code: string) =>
  errors.filter((e) => e instanceof SessionChannelError && e.code === code);

async function setup(options: Parameters<typeof attach>[2] = {}) {
  const server = await startServer();
  const { manager: sm, errors } = manager();
  const handle = attach(sm, server.io, options as never);
  sm.handle((m) => ({ echo: m.n, blob: m.blob }));
  // A raw Socket.IO client (no psession) that misbehaves, and a psession client beside it.
  const raw = client(server.url, { auth: { id: "raw" } });
  const { manager: cm, errors: clientErrors } = manager();
  const good = attach(cm, client(server.url, { auth: { id: "good" } }), options as never);
  await whenConnected(raw);
  await until(() => handle.ports.size === 2);
  return { server, sm, errors, handle, raw, cm, good, clientErrors };
}

describe("the server reports bad events, never throws, and disturbs no other socket", () => {
  test("frames that are not objects, extra arguments, a binary frame, a relay tag without a cluster", async () => {
    const { sm, errors, raw, good, handle } = await setup();
    const rawPort = sm.ports.get("raw")!;
    const bad: unknown[][] = [
      [null],
      [42],
      ["text"],
      [[1, 2]], // a batch of two frames, neither an object: two reports
      [true],
      [Buffer.from("{}")],
      [],
      [{ sid: 1 }, "extra"],
      [{ sid: 1 }, 1, 2],
    ];
    for (const args of bad) raw.emit("psession", ...args);
    raw.emit("psession", { n: 1, $turn: 1, sid: 1 }, { via: "node/1" });
    raw.emit("psession", []); // an empty batch
    const reports = bad.length + 1 /* [1, 2]: its second frame */ + 1 /* the relay tag */ + 1 /* the empty batch */;
    await until(() => errors.length >= reports, 2000, "every bad event to be reported");
    await sleep(20);
    expect(errors).toHaveLength(reports);
    for (const e of errors) expect(e).toBeInstanceOf(SessionChannelError);
    expect(channelErrors(errors, "DECODE_FAILED")).toHaveLength(reports);
    // That connection and the others still work.
    expect(rawPort.attached).toBe(true);
    expect(await good.request({ n: 2 })).toMatchObject({ echo: 2 });
    expect(handle.ports.size).toBe(2);
  });

  test("reported errors carry the port of the connection they came on", async () => {
    const { sm, raw } = await setup();
    const ports: (string | undefined)[] = [];
    sm.on("error", (_e, port) => void ports.push(port?.name));
    raw.emit("psession", "nope");
    await until(() => ports.length === 1);
    expect(ports).toEqual(["raw"]);
  });

  test("an ack callback appended by the client is answered at once; the frame is handled when it is one", async () => {
    const { sm, errors, raw } = await setup();
    const replies: unknown[] = [];
    raw.on("psession", (frame: unknown) => void replies.push(frame));
    // A valid request with an ack: acknowledged (receipt), answered with a psession frame.
    const ack = await raw.timeout(2000).emitWithAck("psession", { n: 5, sid: 1, $turn: 1 });
    expect(ack).toBeUndefined();
    await until(() => replies.some((r) => (r as { sid?: number }).sid === 1));
    expect(replies.find((r) => (r as { sid?: number }).sid === 1)).toMatchObject({ echo: 5, sid: 1, $re: 1 });
    // A bad frame with an ack: acknowledged too (the client does not wait forever), and reported.
    expect(await raw.timeout(2000).emitWithAck("psession", "junk")).toBeUndefined();
    await until(() => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: "DECODE_FAILED" });
    expect(sm.size).toBe(0);
  });

  test("a frame over maxFrameBytes closes that connection only (FRAME_TOO_LARGE); binary members count", async () => {
    const { errors, raw, good, handle } = await setup({ maxFrameBytes: 4096 });
    const closed = new Promise<string>((resolve) => raw.once("disconnect", resolve));
    raw.emit("psession", { sid: 1, $turn: 1, blob: Buffer.alloc(5000) });
    expect(await closed).toBe("io server disconnect");
    expect(channelErrors(errors, "FRAME_TOO_LARGE")).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/over maxFrameBytes 4096/);
    await until(() => handle.ports.size === 1);
    // Under the limit, a binary member travels as a Socket.IO attachment and comes back as bytes.
    const reply = await good.request({ n: 1, blob: Buffer.from([1, 2, 3]) });
    expect(Buffer.from(reply.blob)).toEqual(Buffer.from([1, 2, 3]));
    // Over it, the send fails before anything leaves.
    const failure = await good.request({ n: 2, blob: "x".repeat(5000) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionSendError);
    expect((failure as Error).message).toMatch(/over maxFrameBytes 4096/);
    expect(await good.request({ n: 3 })).toMatchObject({ echo: 3 });
  });
});

describe("the default limit stays under Socket.IO's maxHttpBufferSize", () => {
  test("a message just under 1 MB gets a typed FRAME_TOO_LARGE, not a silent close by Socket.IO", async () => {
    const { errors, raw, handle } = await setup();
    const closed = new Promise<string>((resolve) => raw.once("disconnect", resolve));
    raw.emit("psession", { sid: 1, blob: "x".repeat(999_800) }); // under 1e6 bytes as a packet
    expect(await closed).toBe("io server disconnect"); // closed by psession, after reporting
    expect(channelErrors(errors, "FRAME_TOO_LARGE")).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/over maxFrameBytes 999744/);
    await until(() => handle.ports.size === 1);
  });

  test("a maxFrameBytes over the server's maxHttpBufferSize is refused at attach", async () => {
    const server = await startServer({ maxHttpBufferSize: 2e6 });
    const { manager: m } = manager();
    expect(() => attach(m, server.io, { maxFrameBytes: 3e6 })).toThrow(/over the server's maxHttpBufferSize 2000000/);
    expect(() => attach(m, server.io, { maxFrameBytes: 2e6 })).not.toThrow();
  });
});

describe("the client reports what a server sends wrong", () => {
  test("bad events from the server: reported on the client's manager, the port keeps working", async () => {
    const server = await startServer();
    let serverSocket: ServerSocket | undefined;
    server.io.on("connection", (s) => {
      serverSocket = s;
      // A hand-written server: answers requests by echoing the sid.
      s.on("psession", (m: { sid?: number; n?: number }) => {
        if (typeof m?.sid === "number") s.emit("psession", { sid: m.sid, n: m.n });
      });
    });
    const { manager: cm, errors } = manager();
    const port = attach(cm, client(server.url));
    expect(await port.request({ n: 1 })).toMatchObject({ n: 1 });
    serverSocket!.emit("psession", null);
    serverSocket!.emit("psession", { sid: 2 }, "extra");
    serverSocket!.emit("psession", [1]);
    await until(() => errors.length === 3);
    for (const e of errors) expect(e).toMatchObject({ code: "DECODE_FAILED" });
    expect(await port.request({ n: 2 })).toMatchObject({ n: 2 });
  });

  test("with a serializer, frames are its text or bytes: what it cannot decode is DECODE_FAILED", async () => {
    const serializer = {
      encode: (m: unknown) => JSON.stringify(m),
      decode: (d: string | Uint8Array) => JSON.parse(String(d)),
    };
    const { errors, raw, good } = await setup({ serializer });
    raw.emit("psession", "not json {");
    raw.emit("psession", { sid: 1 });
    await until(() => errors.length === 2);
    expect(errors.map((e) => (e as SessionChannelError).code)).toEqual(["DECODE_FAILED", "DECODE_FAILED"]);
    expect(errors[1]!.message).toMatch(/takes text or bytes, not an object/);
    expect(await good.request({ n: 9 })).toMatchObject({ echo: 9 });
  });
});
