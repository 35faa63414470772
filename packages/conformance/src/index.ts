// The contract every psession channel honours, one suite for every adapter. An adapter's test file
// calls `runConformance("ws", factory, { capabilities })`; the factory wires two managers with that
// adapter's `attach`, and the capabilities say what the channel can do, so that a channel without a
// close event or with a broker between the peers runs the suite honestly instead of skipping it.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  SessionAbortError,
  SessionChannelError,
  SessionError,
  SessionManager,
  SessionRemoteError,
  SessionTimeoutError,
  type HeartbeatOptions,
  type Port,
  type Serializer,
  type SessionManagerOptions,
  type Transport,
} from "psession";

export interface ChannelPair {
  /** The client manager's port for this connection. */
  clientPort: Port;
  /** The server manager's port for this connection. */
  serverPort: Port;
  /**
   * Writes `value` onto the channel from the client side, bypassing psession, for hostile input.
   * Text channels send a string as it is (a `Uint8Array` as bytes) and JSON-encode anything else;
   * message channels post the value itself.
   */
  sendRaw(value: unknown): void | Promise<void>;
  /**
   * The server end of the channel without psession: what a firmware or a hand-written peer sees.
   * Used after `serverPort.destroy()` detaches psession from it. Text channels decode/encode JSON.
   * Required unless `capabilities.rawPeer` is false.
   */
  serverRaw?: {
    // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
    onMessage(listener: (value: any) => void): () => void;
    send(value: unknown): void;
  };
  /** Drops the connection abruptly, as a network failure would. */
  disconnect(): void | Promise<void>;
  /**
   * `capabilities.reconnect`: drops the channel and connects a new one, attached under the same
   * port names on both ends; resolves once both ports are attached again.
   */
  reconnect?(): Promise<void>;
  /** `capabilities.backPressure`: the transports under `clientPort` and `serverPort`. */
  transports?: { client: Transport; server: Transport };
  /** Tears down everything the factory made (servers, sockets, workers). */
  close(): Promise<void>;
}

/** What a case asks of the factory; a factory that cannot honour an option says so in its capabilities. */
export interface PairOptions {
  /** `capabilities.binary`: attach both ends with this serializer. */
  serializer?: Serializer;
  /** `capabilities.heartbeat`: attach both ends with this heartbeat. */
  heartbeat?: HeartbeatOptions;
  /** `capabilities.reconnect`: attach both ends with `reconnect: true` and port names that survive a new channel. */
  reconnect?: boolean;
}

/** Connects `client` and `server` over the channel under test. */
export type PairFactory = (
  client: SessionManager,
  server: SessionManager,
  options: PairOptions,
) => Promise<ChannelPair>;

/** What the channel under test can do. Every flag picks the cases that hold for it; none is skipped silently. */
export interface ChannelCapabilities {
  /**
   * The client end learns at once when the channel drops (a close event): its pending sends abort
   * with SessionAbortError. Without it (a browser `MessagePort`) they end by their own timeout,
   * and that is what is tested. Default true.
   */
  closeSignal?: boolean;
  /**
   * The server end also learns at once when the client drops (TCP, WebSocket). False with a
   * broker between the peers and no Last Will. Default false.
   */
  peerCloseSignal?: boolean;
  /**
   * `sendRaw` puts text or bytes on the wire as they are, to be decoded by the receiving
   * transport: what it cannot decode is reported as SessionChannelError `DECODE_FAILED`. False:
   * values travel as whole messages. Default false.
   */
  rawWrites?: boolean;
  /** An empty raw frame is no frame at all (an NDJSON blank line): skipped, not reported. Default false. */
  skipsEmptyFrames?: boolean;
  /**
   * A raw array is a batch of frames (Socket.IO: one event carrying the messages of one tick):
   * each element surfaces on its own, an empty batch once. Default false.
   */
  batches?: boolean;
  /** The pair has `serverRaw`: the server end can be driven by a peer without psession. Default true. */
  rawPeer?: boolean;
  /** Without a `role` option the two ends take "client" (the opener) and "server" (the acceptor). Default false. */
  roles?: boolean;
  /** The factory honours `options.serializer`, and a serializer's bytes travel as binary frames. Default false. */
  binary?: boolean;
  /** The factory honours `options.heartbeat`; heartbeat frames never reach the application. Default false. */
  heartbeat?: boolean;
  /** The factory honours `options.reconnect` and the pair has `reconnect()`. Default false. */
  reconnect?: boolean;
  /** The pair's `transports` implement `bufferedAmount`, `onDrain`, `pause` and `resume`. Default false. */
  backPressure?: boolean;
}

export interface ConformanceOptions {
  /** Concurrent sessions for the load case (default 1000). */
  concurrency?: number;
  /** Extra hostile raw inputs specific to the channel. */
  hostile?: unknown[];
  /** What the channel can do (see ChannelCapabilities). */
  capabilities?: ChannelCapabilities;
}

/** Hostile inputs every channel must survive. */
export const HOSTILE_INPUTS: unknown[] = [
  null,
  0,
  "",
  "not json {",
  [],
  [1, 2, 3],
  { sid: "1" },
  { sid: -1 },
  { sid: 0 },
  { sid: 1.5 },
  { sid: 1e300 },
  { sid: 70000 },
  { sid: {} },
  { sid: [1] },
  { sid: null },
  { sid: true },
  JSON.parse('{"__proto__": {"sid": 1}, "x": 1}'),
  JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'),
  { $error: "nope" },
];

/** A binary codec for the `binary` case: JSON as UTF-8 bytes behind a one-byte tag. */
export function taggedJsonSerializer(): Serializer & { encoded: number; decoded: number; sawText: number } {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const codec = {
    encoded: 0,
    decoded: 0,
    sawText: 0,
    encode(message: unknown): Uint8Array {
      const body = encoder.encode(JSON.stringify(message));
      const out = new Uint8Array(body.length + 1);
      out[0] = 0xb1;
      out.set(body, 1);
      codec.encoded++;
      return out;
    },
    decode(data: string | Uint8Array): unknown {
      if (typeof data === "string") {
        codec.sawText++;
        throw new TypeError("text frame, but this codec expects binary frames");
      }
      if (data[0] !== 0xb1) throw new TypeError("not a tagged frame");
      codec.decoded++;
      return JSON.parse(decoder.decode(data.subarray(1)));
    },
  };
  return codec;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(5);
  }
}

/** Would the receiving transport's JSON text decoding fail on this raw input? */
function undecodable(value: unknown): boolean {
  if (value instanceof Uint8Array) return true; // a binary frame for a text codec, or bytes that are not JSON
  if (typeof value !== "string") return false;
  try {
    JSON.parse(value);
    return false;
  } catch {
    return true;
  }
}

export function runConformance(name: string, factory: PairFactory, options: ConformanceOptions = {}): void {
  const concurrency = options.concurrency ?? 1000;
  const caps = options.capabilities ?? {};
  const closeSignal = caps.closeSignal ?? true;

  describe(`conformance: ${name}`, () => {
    let client: SessionManager;
    let server: SessionManager;
    let pair: ChannelPair | undefined;
    let errors: Error[];

    /** Fresh managers and a pair made with `pairOptions` (each case that needs options makes its own). */
    const connect = async (pairOptions: PairOptions = {}, opts: SessionManagerOptions = {}): Promise<ChannelPair> => {
      if (pair !== undefined) await teardown();
      client = new SessionManager({ sessionTimeout: 5000, ...opts });
      server = new SessionManager({ sessionTimeout: 5000, ...opts });
      errors = [];
      client.on("error", (e) => void errors.push(e));
      server.on("error", (e) => void errors.push(e));
      pair = await factory(client, server, pairOptions);
      return pair;
    };

    const teardown = async () => {
      const current = pair;
      pair = undefined;
      await current?.close();
      client.clear();
      server.clear();
    };

    beforeEach(async () => {
      await connect();
    });

    afterEach(teardown);

    test("one request, one reply, echoed sid", async () => {
      server.handle((message) => ({ echo: message.value }));
      const reply = await pair!.clientPort.request({ value: 42 });
      expect(reply.echo).toBe(42);
      expect(typeof reply.sid).toBe("number");
      expect(client.size).toBe(0);
      expect(errors).toEqual([]);
    });

    test("both sides initiate at once without taking a request for a reply", async () => {
      client.handle((m) => ({ from: "client", n: m.n }));
      server.handle((m) => ({ from: "server", n: m.n }));
      const n = 50;
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        calls.push(pair!.clientPort.request({ n: i }).then((r) => expect(r).toMatchObject({ from: "server", n: i })));
        calls.push(pair!.serverPort.request({ n: i }).then((r) => expect(r).toMatchObject({ from: "client", n: i })));
      }
      await Promise.all(calls);
      expect(errors).toEqual([]);
    });

    test("multi-turn dialogue: request → needPassword → password → ok", async () => {
      server.handle(async (request, session) => {
        expect(request.command).toBe("turnOnLight");
        const answer = await session.send({ status: "needPassword" });
        return { status: answer.password === "123456" ? "ok" : "denied" };
      });
      const session = client.createSession(pair!.clientPort.name);
      const first = await session.send({ command: "turnOnLight" });
      expect(first.status).toBe("needPassword");
      const second = await session.send({ password: "123456" });
      expect(second.status).toBe("ok");
      expect(second.sid).toBe(session.id);
      session.end();
      expect(errors).toEqual([]);
    });

    test("README-style responder: session:create + next listener", async () => {
      server.on("session:create", (session) => {
        if (!session.remote) return;
        session.on("next", (message) => {
          session.post({ status: "success", got: message.command });
          session.end();
        });
      });
      const reply = await pair!.clientPort.request({ command: "getTime" });
      expect(reply).toMatchObject({ status: "success", got: "getTime" });
    });

    test("a handler's error rejects the initiator with the remote message", async () => {
      server.handle(() => {
        const error = new Error("light is broken") as Error & { code: string };
        error.code = "E_BROKEN";
        throw error;
      });
      const failure = await pair!.clientPort.request({ command: "turnOnLight" }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SessionRemoteError);
      expect((failure as SessionRemoteError).message).toBe("light is broken");
      expect((failure as SessionRemoteError).code).toBe("E_BROKEN");
    });

    if (caps.roles) {
      test("without a role option the ends take client (opener) and server (acceptor)", () => {
        expect([pair!.clientPort.role, pair!.serverPort.role]).toEqual(["client", "server"]);
      });
    }

    if (caps.rawPeer ?? true) {
      test("a dumb peer that only echoes the sid back", async () => {
        const raw = pair!.serverRaw;
        expect(raw, "capabilities.rawPeer needs ChannelPair.serverRaw").toBeDefined();
        // No psession on the far side: it reads {sid, value} and writes back {sid, seen}.
        pair!.serverPort.destroy();
        const off = raw!.onMessage((message) => {
          if (message && typeof message.sid === "number") raw!.send({ seen: message.value * 10, sid: message.sid });
        });
        const replies = await Promise.all([1, 2, 3].map((value) => pair!.clientPort.request({ value })));
        expect(replies.map((r) => r.seen)).toEqual([10, 20, 30]);
        const session = client.createSession(pair!.clientPort.name);
        expect((await session.send({ value: 4 })).seen).toBe(40);
        expect((await session.send({ value: 5 })).seen).toBe(50);
        session.end();
        off();
        expect(errors).toEqual([]);
      });
    }

    if (closeSignal) {
      test("closing the channel aborts every pending session at once", async () => {
        server.handle(() => new Promise(() => {})); // never answers
        const pending = Array.from({ length: 20 }, (_, i) =>
          pair!.clientPort.request({ i }, { timeout: 60_000 }).catch((e: unknown) => e),
        );
        await sleep(50);
        const started = Date.now();
        await pair!.disconnect();
        const results = await Promise.all(pending);
        expect(Date.now() - started).toBeLessThan(2000);
        for (const r of results) expect(r).toBeInstanceOf(SessionAbortError);
      });
    } else {
      test("without a close signal, pending sessions end by their timeout after the channel drops", async () => {
        server.handle(() => new Promise(() => {})); // never answers
        const pending = Array.from({ length: 5 }, (_, i) =>
          pair!.clientPort.request({ i }, { timeout: 300 }).catch((e: unknown) => e),
        );
        await sleep(50);
        await pair!.disconnect();
        const results = await Promise.all(pending);
        for (const r of results) expect(r).toBeInstanceOf(SessionTimeoutError);
      });
    }

    if (caps.peerCloseSignal) {
      test("the far end's pending sessions abort at once too when the client drops", async () => {
        client.handle(() => new Promise(() => {})); // never answers
        const pending = Array.from({ length: 20 }, (_, i) =>
          pair!.serverPort.request({ i }, { timeout: 60_000 }).catch((e: unknown) => e),
        );
        await until(() => client.size === 20);
        const started = Date.now();
        await pair!.disconnect();
        const results = await Promise.all(pending);
        expect(Date.now() - started).toBeLessThan(2000);
        for (const r of results) expect(r).toBeInstanceOf(SessionAbortError);
      });
    }

    test("hostile inbound messages are reported, never thrown, and disturb nothing", async () => {
      server.handle((m) => ({ ok: m.n }));
      const seen: unknown[] = [];
      server.on("message", (m) => void seen.push(m));
      const inputs = [...HOSTILE_INPUTS, ...(options.hostile ?? [])];
      for (const value of inputs) await pair!.sendRaw(value);
      // The channel still works both ways afterwards.
      expect(await pair!.clientPort.request({ n: 7 })).toMatchObject({ ok: 7 });
      await sleep(20);
      // Every hostile input surfaced exactly once, as a message or an error; none became a session.
      const skipped = caps.skipsEmptyFrames ? inputs.filter((v) => v === "").length : 0;
      const withSid = inputs.filter(
        (v) => typeof v === "object" && v !== null && !Array.isArray(v) && Object.hasOwn(v, "sid"),
      );
      expect(errors.filter((e) => /invalid sid/.test(e.message))).toHaveLength(withSid.length);
      // With batches, an array surfaces once per element (an empty one once).
      const surfacing = (v: unknown) => (caps.batches && Array.isArray(v) ? Math.max(1, v.length) : 1);
      const expectedTotal = inputs.reduce<number>((sum, v) => sum + surfacing(v), 0);
      expect(seen.length + errors.length).toBe(expectedTotal - skipped);
      for (const e of errors) expect(e).toBeInstanceOf(SessionError);
      if (caps.rawWrites) {
        // What the transport could not decode is reported with the one typed channel error.
        const expected = inputs.filter((v) => undecodable(v) && !(caps.skipsEmptyFrames && v === "")).length;
        const decodeErrors = errors.filter((e) => e instanceof SessionChannelError && e.code === "DECODE_FAILED");
        expect(decodeErrors).toHaveLength(expected);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(server.size).toBe(0);
    });

    test(`${concurrency} concurrent sessions`, async () => {
      server.handle(async (m) => {
        await sleep(m.n % 5);
        return { n: m.n * 2 };
      });
      const replies = await Promise.all(Array.from({ length: concurrency }, (_, n) => pair!.clientPort.request({ n })));
      for (const [n, r] of replies.entries()) expect(r.n).toBe(n * 2);
      expect(client.size).toBe(0);
      expect(server.size).toBe(0);
      expect(errors).toEqual([]);
    });

    if (caps.binary) {
      test("a binary serializer: its bytes travel as binary frames, a dialogue works end to end", async () => {
        const codec = taggedJsonSerializer();
        const p = await connect({ serializer: codec });
        server.handle(async (m, session) => {
          const more = await session.send({ got: m.values.length });
          return { sum: [...m.values, ...more.values].reduce((a: number, b: number) => a + b, 0) };
        });
        const session = client.createSession(p.clientPort.name);
        expect(await session.send({ values: [1, 2, 3] })).toMatchObject({ got: 3 });
        expect(await session.send({ values: [4] })).toMatchObject({ sum: 10 });
        session.end();
        expect(codec.encoded).toBeGreaterThanOrEqual(4);
        expect(codec.decoded).toBeGreaterThanOrEqual(4);
        expect(codec.sawText).toBe(0);
        expect(errors).toEqual([]);
      });
    }

    if (caps.heartbeat) {
      test("heartbeat: an idle healthy channel stays up (timeout below the interval too); pings never reach the application", async () => {
        const p = await connect({ heartbeat: { interval: 30, timeout: 10 } });
        const seen: unknown[] = [];
        client.on("message", (m) => void seen.push(m));
        server.on("message", (m) => void seen.push(m));
        server.handle((m) => ({ n: m.n }));
        await sleep(300); // ten intervals of idleness
        expect(p.clientPort.attached).toBe(true);
        expect(p.serverPort.attached).toBe(true);
        expect(await p.clientPort.request({ n: 1 })).toMatchObject({ n: 1 });
        expect(seen).toEqual([]);
        expect(errors).toEqual([]);
      });
    }

    if (caps.reconnect) {
      test("reconnect: a dialogue survives a new channel on both ends", async () => {
        const p = await connect({ reconnect: true });
        server.handle(async (m, session) => {
          const second = await session.send({ step: 1 }, { retryCount: 5, retryInterval: 50 });
          return { step: 2, total: m.base + second.add };
        });
        const session = client.createSession(p.clientPort.name);
        expect(await session.send({ base: 40 })).toMatchObject({ step: 1 });
        const [clientPort, serverPort] = [p.clientPort, p.serverPort];
        await p.reconnect!();
        // The same ports, kept with their sessions, on the new channel.
        expect(client.ports.get(clientPort.name)).toBe(clientPort);
        expect(server.ports.get(serverPort.name)).toBe(serverPort);
        expect(await session.send({ add: 2 })).toMatchObject({ step: 2, total: 42 });
        session.end();
        expect(await clientPort.request({ x: 1 })).toMatchObject({ step: 1 });
        expect(errors).toEqual([]);
      });
    }

    if (caps.backPressure) {
      test("back-pressure members: paused ends deliver nothing, bufferedAmount grows, onDrain fires after resume", async () => {
        const { client: sender, server: receiver } = pair!.transports!;
        const seen: number[] = [];
        server.on("message", (m) => void seen.push((m as { i: number }).i));
        receiver.pause!();
        await sleep(20);
        const blob = "x".repeat(256 * 1024);
        let i = 0;
        // Flood until the queue toward the paused peer stays over 1 MiB once the kernel's buffers
        // are full (bounded: 256 MiB).
        while (i < 1024) {
          await sender.send({ i: i++, blob });
          if (i % 4 === 0) {
            await sleep(5);
            if (sender.bufferedAmount! > 1024 * 1024) break;
          }
        }
        expect(sender.bufferedAmount!).toBeGreaterThan(1024 * 1024);
        await sleep(50);
        // TCP and the kernel hold what was written, but nothing reached the paused end's application
        // beyond what was already read before the pause took effect.
        const before = seen.length;
        await sleep(100);
        expect(seen.length).toBe(before);
        expect(before).toBeLessThan(i);
        expect(sender.bufferedAmount!).toBeGreaterThan(0);
        const drained = new Promise<void>((resolve) => {
          const off = sender.onDrain!(() => {
            off();
            resolve();
          });
        });
        receiver.resume!();
        await Promise.race([
          drained,
          sleep(5000).then(() => {
            throw new Error(
              `onDrain did not fire; bufferedAmount ${sender.bufferedAmount}, ${seen.length}/${i} delivered`,
            );
          }),
        ]);
        expect(sender.bufferedAmount).toBe(0);
        await until(() => seen.length === i);
        expect(seen).toEqual(Array.from({ length: i }, (_, n) => n));
      });
    }
  });
}

export { MiB, hostileProcesses } from "./hostile-processes.js";
export type { HostileProcesses, Memory, ServerOptions, ServerProcess, ServerStats } from "./hostile-processes.js";
