// Real TCP on 127.0.0.1 (and a Unix socket where it matters): what the conformance suite does not
// cover — raw line peers, the README server, oversized frames, closing, naming, load, serializers.
import net from "node:net";
import tls from "node:tls";
import { attach, createSocketTransport, NetChannelError, type NetServerAttachOptions } from "@psession/net";
import { pack, unpack } from "msgpackr";
import { SessionAbortError, SessionChannelError, SessionManager, SessionSendError, type Port } from "psession";
import { describe, expect, test } from "vitest";
import { track } from "./cleanup.js";
import { closedOf, connected, frame, listen, selfSigned, sleep, until } from "./helpers.js";

function manager(options: ConstructorParameters<typeof SessionManager>[0] = {}) {
  const m = track(new SessionManager({ sessionTimeout: 5000, ...options }));
  const errors: Error[] = [];
  m.on("error", (e) => void errors.push(e));
  return { m, errors };
}

/** A psession server on a fresh TCP (or Unix) listener; `connect()` makes a raw client socket. */
async function psessionServer(options: NetServerAttachOptions = {}, kind: "tcp" | "unix" = "tcp") {
  const { m, errors } = manager();
  const srv = track(net.createServer());
  const attachment = attach(m, srv, options);
  const { connect } = await listen(kind, srv);
  return { m, errors, attachment, connect: () => track(connect()) };
}

/** Reads NDJSON lines from a raw socket, whatever the chunking. */
// biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
function lines(socket: net.Socket, onLine: (value: any) => void): void {
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    text += chunk;
    let nl: number;
    while ((nl = text.indexOf("\n")) !== -1) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      onLine(JSON.parse(line));
    }
  });
}

describe("plain line peers (no psession on the other side)", () => {
  test("a line device answering {sid} lines with the same sid: requests, multi-turn, non-session events", async () => {
    // The device: reads a line, writes back a line carrying the same sid. It cuts one reply in
    // two writes and joins two replies in one write, as real firmware and TCP do.
    const device = track(
      net.createServer((socket) => {
        track(socket);
        let held = "";
        socket.write('{"event":"boot","fw":"1.2"}\n');
        lines(socket, (msg) => {
          const reply = `${JSON.stringify({ sid: msg.sid, seen: msg.value ?? msg.command, ok: true })}\n`;
          if (msg.value === 1) {
            socket.write(reply.slice(0, 7)); // the rest goes out with the next replies
            held = reply.slice(7);
          } else if (msg.value === 2) {
            held += reply;
          } else {
            socket.write(held + reply);
            held = "";
          }
        });
      }),
    );
    const { connect } = await listen("tcp", device);
    const { m, errors } = manager();
    const events: unknown[] = [];
    const eventPorts: Port[] = [];
    m.on("message", (msg, port) => {
      events.push(msg);
      eventPorts.push(port);
    });
    const port = attach(m, track(connect()), { port: "device" });
    const [r1, r2, r3] = await Promise.all([
      port.request({ value: 1 }),
      port.request({ value: 2 }),
      port.request({ value: 3 }),
    ]);
    expect([r1.seen, r2.seen, r3.seen]).toEqual([1, 2, 3]);
    const session = m.createSession("device");
    expect((await session.send({ command: "status" })).seen).toBe("status");
    expect((await session.send({ command: "on" })).seen).toBe("on");
    session.end();
    expect(events).toEqual([{ event: "boot", fw: "1.2" }]);
    expect(eventPorts[0]).toBe(port);
    expect(errors).toEqual([]);
  });

  test("a raw client (like nc) talking to manager.handle(): same sid back, on one line", async () => {
    const { m, errors, connect } = await psessionServer();
    m.handle((msg) => ({ status: "ok", echo: msg.cmd }));
    const raw = connect();
    // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
    const replies: any[] = [];
    lines(raw, (msg) => replies.push(msg));
    await connected(raw);
    // Two requests in one write, a third cut in the middle of a multi-byte character.
    raw.write('{"sid":3,"cmd":"a"}\n{"sid":5,"cmd":"b"}\n');
    const third = Buffer.from('{"sid":7,"cmd":"ü€"}\n');
    raw.write(third.subarray(0, 17));
    await sleep(10);
    raw.write(third.subarray(17));
    await until(() => replies.length === 3);
    // (Replies may carry protocol fields of the core besides these, such as a turn marker.)
    expect(replies.sort((a, b) => a.sid - b.sid)).toMatchObject([
      { status: "ok", echo: "a", sid: 3 },
      { status: "ok", echo: "b", sid: 5 },
      { status: "ok", echo: "ü€", sid: 7 },
    ]);
    expect(errors).toEqual([]);
  });

  test("bytes written one at a time over a real socket decode exactly", async () => {
    const { m, errors, connect } = await psessionServer();
    const got: unknown[] = [];
    m.on("message", (msg) => void got.push(msg));
    const raw = connect();
    raw.setNoDelay(true);
    await connected(raw);
    const values = [{ t: "héllo 😀" }, { t: "中文" }, { n: 1 }];
    const bytes = Buffer.concat(values.map((v) => frame("ndjson", JSON.stringify(v))));
    for (const byte of bytes) {
      raw.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    await until(() => got.length === values.length);
    expect(got).toEqual(values);
    expect(errors).toEqual([]);
  });
});

test("the README's socket server, rewritten with attach: split and joined messages no longer break it", async () => {
  const manager = track(new SessionManager({ sessionTimeout: 10_000 }));
  const server = track(net.createServer());
  attach(manager, server); // one port per client, destroyed when it disconnects
  manager.on("session:create", (session) => {
    if (!session.remote) return;
    session.on("next", (message) => {
      if (message.command === "getTime") {
        session.post({ status: "success", time: new Date(0).toISOString() });
        session.end();
      }
    });
  });
  const { connect } = await listen("tcp", server);

  // A psession client.
  const client = track(new SessionManager());
  const port = attach(client, track(connect()));
  expect(await port.request({ command: "getTime" })).toMatchObject({
    status: "success",
    time: "1970-01-01T00:00:00.000Z",
  });

  // A raw client whose two commands arrive in one chunk (the old JSON.parse-per-chunk broke here).
  const raw = track(connect());
  const replies: unknown[] = [];
  lines(raw, (msg) => replies.push(msg));
  // (A raw client picks odd sids: the server port's role "server" keeps the even ones for itself.)
  raw.write('{"sid":1,"command":"getTime"}\n{"sid":3,"command":"getTime"}\n');
  await until(() => replies.length === 2);
  expect(replies).toContainEqual(
    expect.objectContaining({ status: "success", time: "1970-01-01T00:00:00.000Z", sid: 1 }),
  );
  expect(replies).toContainEqual(
    expect.objectContaining({ status: "success", time: "1970-01-01T00:00:00.000Z", sid: 3 }),
  );
});

describe("oversized frames", () => {
  test("ndjson: a line streaming past maxFrameBytes destroys only that connection, with bounded reads", async () => {
    const max = 64 * 1024;
    const { m, errors, attachment, connect } = await psessionServer({ maxFrameBytes: max });
    m.handle((msg) => ({ ok: msg.n }));
    const good = track(new SessionManager());
    const goodPort = attach(good, connect());
    expect(await goodPort.request({ n: 1 })).toMatchObject({ ok: 1 });

    const attacker = connect();
    await connected(attacker);
    await until(() => attachment.ports.size === 2);
    const [attackerSide, attackerPort] = [...attachment.ports].find(
      ([, p]) => p.name === `127.0.0.1:${attacker.localPort}`,
    )!;
    // The server had asked the attacker something; that session must abort, not wait 60 s.
    const pending = attackerPort.request({ q: 1 }, { timeout: 60_000 }).catch((e: unknown) => e);

    // Stream 'a's with no newline until the server hangs up.
    const block = Buffer.alloc(16 * 1024, 0x61);
    let written = 0;
    attacker.on("error", () => {});
    while (!attacker.destroyed && written < 64 * 1024 * 1024) {
      written += block.length;
      if (!attacker.write(block))
        await Promise.race([new Promise((r) => attacker.once("drain", r)), closedOf(attacker)]);
    }
    await closedOf(attackerSide);
    expect(attackerSide.bytesRead).toBeLessThanOrEqual(max + 64 * 1024 + block.length);
    expect(await pending).toBeInstanceOf(SessionAbortError);
    const frameErrors = errors.filter((e) => e instanceof NetChannelError && e.code === "FRAME_TOO_LARGE");
    expect(frameErrors).toHaveLength(1);
    expect(frameErrors[0]!.message).toMatch(/over maxFrameBytes 65536: connection destroyed/);
    expect(attachment.ports.size).toBe(1);
    // The well-behaved client never noticed.
    expect(await goodPort.request({ n: 2 })).toMatchObject({ ok: 2 });
  });

  test("length-prefix: an oversized header is refused before any body arrives", async () => {
    const { errors, attachment, connect } = await psessionServer({ framing: "length-prefix", maxFrameBytes: 1024 });
    const attacker = connect();
    await connected(attacker);
    await until(() => attachment.ports.size === 1);
    const [serverSide] = [...attachment.ports.keys()];
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xfffffff0, 0);
    attacker.write(header);
    await closedOf(serverSide!);
    expect(serverSide!.bytesRead).toBe(4);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NetChannelError);
    expect(errors[0]!.message).toMatch(/header announced 4294967280 bytes, over maxFrameBytes 1024/);
    await closedOf(attacker);
  });

  test("a send larger than maxFrameBytes fails that send only, and the connection keeps working", async () => {
    const { m, connect } = await psessionServer();
    m.handle((msg) => ({ len: String(msg.blob ?? "").length }));
    const client = manager();
    const port = attach(client.m, connect(), { maxFrameBytes: 1000 });
    const failure = await port.request({ blob: "é".repeat(600) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionSendError);
    expect((failure as Error).message).toMatch(/over maxFrameBytes 1000: not sent/);
    expect(await port.request({ blob: "x".repeat(900) })).toMatchObject({ len: 900 });
  });
});

describe("closing aborts pending sessions at once", () => {
  const never = (m: SessionManager) => m.handle(() => new Promise(() => {}));

  test("the peer ends the connection (FIN)", async () => {
    const { m, attachment, connect } = await psessionServer();
    never(m);
    const client = manager();
    const port = attach(client.m, connect());
    const pending = port.request({ x: 1 }, { timeout: 60_000 }).catch((e: unknown) => e);
    await until(() => m.size === 1);
    const started = Date.now();
    // The server side ends its socket gracefully: the client's pending request fails at once.
    for (const socket of attachment.ports.keys()) socket.end();
    const error = await pending;
    expect(error).toBeInstanceOf(SessionAbortError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(port.attached).toBe(false);
    await until(() => m.size === 0);
  });

  test("the server's pending request to a client aborts when that client goes away", async () => {
    const { attachment, connect } = await psessionServer();
    const client = manager();
    client.m.handle(() => new Promise(() => {}));
    const socket = connect();
    attach(client.m, socket);
    await until(() => attachment.ports.size === 1);
    const [serverPort] = [...attachment.ports.values()];
    const pending = serverPort!.request({ x: 1 }, { timeout: 60_000 }).catch((e: unknown) => e);
    await until(() => client.m.size === 1);
    socket.destroy();
    expect(await pending).toBeInstanceOf(SessionAbortError);
    expect(serverPort!.destroyed).toBe(true);
    expect(attachment.ports.size).toBe(0);
  });

  test("a socket error (connection refused) aborts with the error as cause", async () => {
    const probe = net.createServer();
    const { server } = await listen("tcp", probe);
    const { port: free } = server.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    const client = manager();
    const port = attach(client.m, track(net.connect(free, "127.0.0.1")));
    const error = await port.request({ x: 1 }, { timeout: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionAbortError);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });
});

describe("naming and bookkeeping", () => {
  test("TCP ports are named remoteAddress:remotePort; a custom portName wins", async () => {
    const a = await psessionServer();
    const socket = a.connect();
    await connected(socket);
    await until(() => a.attachment.ports.size === 1);
    expect([...a.attachment.ports.values()][0]!.name).toBe(`127.0.0.1:${socket.localPort}`);
    expect([...a.attachment.ports.values()][0]!.role).toBe("server");

    const b = await psessionServer({ portName: (s) => `dev-${s.remotePort}` });
    const other = b.connect();
    await connected(other);
    await until(() => b.attachment.ports.size === 1);
    expect(b.m.ports.has(`dev-${other.localPort}`)).toBe(true);
  });

  test("Unix-socket connections get unique unix:<n> names and both sides initiate", async () => {
    const { m, attachment, connect } = await psessionServer({}, "unix");
    m.handle((msg) => ({ from: "server", n: msg.n }));
    const clients = [manager(), manager()];
    const ports = clients.map((c) => {
      c.m.handle((msg) => ({ from: "client", n: msg.n }));
      return attach(c.m, connect());
    });
    await until(() => attachment.ports.size === 2);
    const names = [...attachment.ports.values()].map((p) => p.name);
    expect(names.every((n) => /^unix:\d+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(2);
    expect(await ports[0]!.request({ n: 1 })).toMatchObject({ from: "server", n: 1 });
    for (const p of attachment.ports.values())
      expect(await p.request({ n: 2 })).toMatchObject({ from: "client", n: 2 });
  });

  test("detach() stops attaching new connections and can close the open ones", async () => {
    const { m, attachment, connect } = await psessionServer();
    m.handle(() => ({}));
    const first = connect();
    await until(() => attachment.ports.size === 1);
    attachment.close({ closeConnections: true });
    await closedOf(first);
    expect(attachment.ports.size).toBe(0);
    const late = connect();
    await connected(late);
    await sleep(20);
    expect(attachment.ports.size).toBe(0);
    expect(m.ports.size).toBe(1); // only "default"
  });
});

test("1,000 concurrent sessions over 10 connections, both ways at once", async () => {
  const { m, errors, attachment, connect } = await psessionServer();
  m.handle(async (msg) => {
    await sleep(msg.n % 3);
    return { by: "server", n: msg.n, client: msg.client };
  });
  const clients = Array.from({ length: 10 }, (_, c) => {
    const { m: cm, errors: ce } = manager();
    cm.handle(async (msg) => {
      await sleep(msg.n % 3);
      return { by: `client${c}`, n: msg.n };
    });
    return { c, cm, ce, port: attach(cm, connect()) };
  });
  await until(() => attachment.ports.size === 10);
  const up = clients.flatMap(({ c, port }) =>
    Array.from({ length: 100 }, (_, i) =>
      port
        .request({ n: c * 100 + i, client: c })
        .then((r) => expect(r).toMatchObject({ by: "server", n: c * 100 + i, client: c })),
    ),
  );
  // Each server port reaches one client: all 100 answers of a port must come from that one client.
  const down = [...attachment.ports.values()].flatMap((port) =>
    Array.from({ length: 100 }, (_, i) =>
      port.request({ n: i }).then((r) => ({ by: r.by as string, n: r.n as number, port })),
    ),
  );
  await Promise.all(up);
  const answers = await Promise.all(down);
  // 100 answers per server port, all from one and the same client, each n answered once.
  const perPort = new Map<Port, Set<string>>();
  for (const a of answers) {
    if (!perPort.has(a.port)) perPort.set(a.port, new Set());
    perPort.get(a.port)!.add(a.by);
  }
  expect(answers.map((a) => a.n).sort((x, y) => x - y)).toEqual(
    Array.from({ length: 1000 }, (_, i) => Math.floor(i / 10)),
  );
  expect(perPort.size).toBe(10);
  const owners = [...perPort.values()].map((s) => [...s]);
  for (const o of owners) expect(o).toHaveLength(1);
  expect(new Set(owners.map((o) => o[0])).size).toBe(10);
  expect(m.size).toBe(0);
  for (const { cm, ce } of clients) {
    expect(cm.size).toBe(0);
    expect(ce).toEqual([]);
  }
  expect(errors).toEqual([]);
});

describe("serializers", () => {
  test("length-prefix carries a binary serializer (msgpack): Buffers and bytes 0x0A survive", async () => {
    const serializer = { encode: (m: unknown) => pack(m), decode: (b: Buffer) => unpack(b) };
    const { m, errors, connect } = await psessionServer({ framing: "length-prefix", serializer });
    m.handle((msg) => ({ bytes: Buffer.from(msg.bytes).reverse(), n: msg.n + 1 }));
    const client = manager();
    const port = attach(client.m, connect(), { framing: "length-prefix", serializer });
    const bytes = Buffer.from([10, 0, 255, 10, 13]);
    const reply = await port.request({ bytes, n: 10 });
    expect(Buffer.from(reply.bytes)).toEqual(Buffer.from([13, 10, 255, 0, 10]));
    expect(reply.n).toBe(11);
    // Big frames spanning many chunks.
    const big = Buffer.alloc(300_000, 7);
    expect(Buffer.from((await port.request({ bytes: big, n: 0 })).bytes).length).toBe(300_000);
    expect(errors).toEqual([]);
    expect(client.errors).toEqual([]);
  });

  test("length-prefix with JSON: ASCII, non-ASCII and mixed batches (text fast path and its fallback) round-trip exactly", async () => {
    const { m, errors, connect } = await psessionServer({ framing: "length-prefix" });
    m.handle((msg) => ({ echo: msg.text }));
    const client = manager();
    const port = attach(client.m, connect(), { framing: "length-prefix" });
    const texts = [
      "plain ascii",
      "héllo wörld",
      "灯を点けて 💡",
      "x".repeat(70_000),
      "ü".repeat(40_000),
      "\n\u0000\u007f",
    ];
    // All in one tick: one batch mixing ASCII and non-ASCII frames, and replies likewise.
    const replies = await Promise.all(texts.map((text) => port.request({ text })));
    expect(replies.map((r) => r.echo)).toEqual(texts);
    // ASCII only, one batch each way.
    const ascii = await Promise.all(Array.from({ length: 50 }, (_, i) => port.request({ text: `n${i}` })));
    expect(ascii.map((r) => r.echo)).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    expect(errors).toEqual([]);
    expect(client.errors).toEqual([]);
  });

  test("ndjson refuses a serializer output containing a newline byte, with a clear send error", async () => {
    const serializer = { encode: (m: unknown) => pack(m), decode: (b: Buffer) => unpack(b) };
    const { connect } = await psessionServer({ serializer });
    const client = manager();
    const port = attach(client.m, connect(), { serializer });
    const failure = await port.request({ bytes: Buffer.from([10]) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionSendError);
    expect((failure as Error).message).toMatch(/newline byte: use length-prefix framing/);
  });
});

describe("transport details", () => {
  test("messages sent in one tick leave in order, and close() flushes them before closing", async () => {
    const received: unknown[] = [];
    const server = track(
      net.createServer((socket) => {
        track(socket);
        createSocketTransport(socket).onMessage((m) => void received.push(m));
      }),
    );
    const { connect } = await listen("tcp", server);
    const socket = track(connect());
    const transport = createSocketTransport(socket);
    for (let i = 0; i < 100; i++) transport.send({ i });
    transport.close();
    expect(transport.closed).toBe(true);
    expect(() => transport.send({ late: true })).toThrow(/closed/);
    await until(() => received.length === 100);
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
    await closedOf(socket);
  });

  test("TLS: a client that does not trust the certificate aborts its pending session with the TLS error", async () => {
    const { m } = manager();
    m.handle(() => ({ ok: true }));
    const server = track(tls.createServer(selfSigned()));
    attach(m, server);
    const { server: srv } = await listen("tls", server);
    const { port: tcpPort } = srv.address() as net.AddressInfo;
    const client = manager();
    const trusted = attach(client.m, track(tls.connect({ port: tcpPort, host: "127.0.0.1", ca: selfSigned().cert })), {
      port: "trusted",
    });
    expect(await trusted.request({})).toMatchObject({ ok: true });
    const untrusted = attach(client.m, track(tls.connect({ port: tcpPort, host: "127.0.0.1" })), { port: "untrusted" });
    const error = await untrusted.request({}, { timeout: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionAbortError);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });
});

describe("the transport contract", () => {
  test("a send while the socket connects completes once it has; a socket that never connects fails the send at once", async () => {
    const { m, connect } = await psessionServer();
    m.handle((msg) => ({ echo: msg.x }));
    const client = manager();
    const socket = connect();
    expect(socket.connecting).toBe(true);
    const port = attach(client.m, socket);
    expect((await Promise.all([port.request({ x: 1 }), port.request({ x: 2 })])).map((r) => r.echo)).toEqual([1, 2]);

    const probe = track(net.createServer());
    const { server } = await listen("tcp", probe);
    const { port: free } = server.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    const raw = createSocketTransport(track(net.connect(free, "127.0.0.1")), { report: () => {} });
    const pending = raw.send({ x: 3 });
    expect(pending).toBeInstanceOf(Promise);
    const failure = await (pending as Promise<void>).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionChannelError);
    expect((failure as SessionChannelError).code).toBe("CLOSED");
    expect(String((failure as Error).message)).toMatch(/closed before it connected .*ECONNREFUSED/);
  });

  test("any number of message and close listeners; each unsubscribe removes only its own", async () => {
    const received: string[] = [];
    const server = track(
      net.createServer((socket) => {
        track(socket);
        const t = createSocketTransport(socket);
        t.onMessage((m) => void received.push(`a:${(m as { n: number }).n}`));
        const offB = t.onMessage((m) => void received.push(`b:${(m as { n: number }).n}`));
        t.onMessage((m) => {
          if ((m as { n: number }).n === 1) offB();
        });
      }),
    );
    const { connect } = await listen("tcp", server);
    const socket = track(connect());
    const t = createSocketTransport(socket);
    const closes: string[] = [];
    t.onClose(() => void closes.push("one"));
    const offTwo = t.onClose(() => void closes.push("two"));
    t.onClose(() => void closes.push("three"));
    offTwo();
    t.send({ n: 1 });
    t.send({ n: 2 });
    await until(() => received.length === 3);
    expect(received).toEqual(["a:1", "b:1", "a:2"]);
    t.destroy(new Error("bye"));
    expect(closes).toEqual(["one", "three"]);
  });

  // Issue 15 item 4: whatever throws inside a socket listener is reported and closes that connection only.
  test("an exception inside a socket listener is reported and destroys only that connection", async () => {
    const { m, errors, attachment, connect } = await psessionServer({
      onConnection: (_port, _socket, transport) => {
        transport.onMessage((message) => {
          if ((message as { boom?: boolean }).boom) throw new Error("listener bug");
        });
      },
    });
    m.handle((msg) => ({ n: msg.n }));
    const bad = connect();
    const good = manager();
    const goodPort = attach(good.m, connect());
    await connected(bad);
    await until(() => attachment.ports.size === 2);
    bad.write('{"boom":true}\n');
    await closedOf(bad);
    const failures = errors.filter((e) =>
      /a socket listener failed \(listener bug\): connection destroyed/.test(e.message),
    );
    expect(failures).toHaveLength(1);
    expect((failures[0] as SessionChannelError).code).toBe("CLOSED");
    await until(() => attachment.ports.size === 1);
    expect(await goodPort.request({ n: 4 })).toMatchObject({ n: 4 });
  });

  // Issue 15 item 12: every encoded NDJSON frame is checked for newlines, strings too.
  test("ndjson: a string serializer whose output holds a newline fails that send; nothing reaches the peer", async () => {
    const received: Buffer[] = [];
    const srv = track(
      net.createServer((socket) => {
        track(socket);
        socket.on("data", (chunk) => void received.push(chunk));
      }),
    );
    const { connect } = await listen("tcp", srv);
    const kv = {
      encode: (message: unknown) =>
        Object.entries(message as object)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join("&"),
      decode: (data: string | Uint8Array) => Object.fromEntries(new URLSearchParams(String(data))),
    };
    const client = manager();
    const port = attach(client.m, connect(), { serializer: kv });
    const injected = await port.request({ cmd: "hi\nsid=3&cmd=deleteAll" }).catch((e: unknown) => e);
    expect(injected).toBeInstanceOf(SessionSendError);
    expect((injected as Error).message).toMatch(
      /output contains a newline: NDJSON cannot carry it; use length-prefix framing/,
    );
    const pretty = { encode: (message: unknown) => JSON.stringify(message, null, 2), decode: kv.decode };
    const other = attach(client.m, connect(), { serializer: pretty, port: "pretty" });
    expect(await other.request({ a: 1 }).catch((e: unknown) => e)).toBeInstanceOf(SessionSendError);
    void port.request({ cmd: "fine" }, { timeout: 100 }).catch(() => {});
    await until(() => received.length > 0);
    await sleep(20);
    expect(Buffer.concat(received).toString()).toMatch(/^cmd=fine&sid=\d+[^\n]*\n$/);
  });

  // Issue 15 item 16: blank lines cost nothing: no error object, no warning, per attacker byte.
  test("ndjson: 1 MiB of blank lines is skipped without a single report, and the connection keeps working", async () => {
    const { m, errors, attachment, connect } = await psessionServer();
    m.handle((msg) => ({ n: msg.n }));
    const socket = connect();
    await connected(socket);
    await until(() => attachment.ports.size === 1);
    const blanks = Buffer.alloc(1024 * 1024, 0x0a);
    for (let at = 0; at < blanks.length; at += 64 * 1024) socket.write(blanks.subarray(at, at + 64 * 1024));
    socket.write(Buffer.from("\r\n".repeat(1000)));
    const replies: unknown[] = [];
    lines(socket, (msg) => replies.push(msg));
    socket.write('{"sid":1,"n":5}\n');
    await until(() => replies.length === 1);
    expect(replies[0]).toMatchObject({ sid: 1, n: 5 });
    expect(errors).toEqual([]);
  });
});
