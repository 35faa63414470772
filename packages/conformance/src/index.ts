// The contract every psession channel honours. An adapter's test file calls
// `runConformance("ws", factory)`; the factory wires two managers with that adapter's `attach`.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  SessionAbortError,
  SessionManager,
  SessionRemoteError,
  type Port,
  type SessionManagerOptions,
} from "psession";

export interface ChannelPair {
  /** The client manager's port for this connection. */
  clientPort: Port;
  /** The server manager's port for this connection. */
  serverPort: Port;
  /**
   * Writes `value` straight onto the channel from the client side, bypassing psession, for hostile
   * input. Text channels send a string as it is and JSON-encode anything else.
   */
  sendRaw(value: unknown): void | Promise<void>;
  /**
   * The server end of the channel without psession: what a firmware or a hand-written peer sees.
   * Used after `serverPort.destroy()` detaches psession from it. Text channels decode/encode JSON.
   */
  serverRaw: {
    onMessage(listener: (value: any) => void): () => void; // eslint-disable-line @typescript-eslint/no-explicit-any
    send(value: unknown): void;
  };
  /** Drops the connection abruptly, as a network failure would. */
  disconnect(): void | Promise<void>;
  /** Tears down everything the factory made (servers, sockets, workers). */
  close(): Promise<void>;
}

/** Connects `client` and `server` over the channel under test. */
export type PairFactory = (client: SessionManager, server: SessionManager) => Promise<ChannelPair>;

export interface ConformanceOptions {
  /** Concurrent sessions for the load case (default 1000). */
  concurrency?: number;
  /** Extra hostile raw inputs specific to the channel. */
  hostile?: unknown[];
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

export function runConformance(name: string, factory: PairFactory, options: ConformanceOptions = {}): void {
  const concurrency = options.concurrency ?? 1000;

  describe(`conformance: ${name}`, () => {
    let client: SessionManager;
    let server: SessionManager;
    let pair: ChannelPair;
    let errors: Error[];

    const setup = async (opts: SessionManagerOptions = {}) => {
      client = new SessionManager({ sessionTimeout: 5000, ...opts });
      server = new SessionManager({ sessionTimeout: 5000, ...opts });
      errors = [];
      client.on("error", (e) => void errors.push(e));
      server.on("error", (e) => void errors.push(e));
      pair = await factory(client, server);
    };

    beforeEach(async () => {
      await setup();
    });

    afterEach(async () => {
      await pair.close();
      client.clear();
      server.clear();
    });

    test("one request, one reply, echoed sid", async () => {
      server.handle((message) => ({ echo: message.value }));
      const reply = await pair.clientPort.request({ value: 42 });
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
        calls.push(pair.clientPort.request({ n: i }).then((r) => expect(r).toMatchObject({ from: "server", n: i })));
        calls.push(pair.serverPort.request({ n: i }).then((r) => expect(r).toMatchObject({ from: "client", n: i })));
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
      const session = client.createSession(pair.clientPort.name);
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
      const reply = await pair.clientPort.request({ command: "getTime" });
      expect(reply).toMatchObject({ status: "success", got: "getTime" });
    });

    test("a handler's error rejects the initiator with the remote message", async () => {
      server.handle(() => {
        const error = new Error("light is broken") as Error & { code: string };
        error.code = "E_BROKEN";
        throw error;
      });
      const failure = await pair.clientPort.request({ command: "turnOnLight" }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SessionRemoteError);
      expect((failure as SessionRemoteError).message).toBe("light is broken");
      expect((failure as SessionRemoteError).code).toBe("E_BROKEN");
    });

    test("a dumb peer that only echoes the sid back", async () => {
      // No psession on the far side: it reads {sid, value} and writes back {sid, seen}.
      pair.serverPort.destroy();
      const off = pair.serverRaw.onMessage((message) => {
        if (message && typeof message.sid === "number") pair.serverRaw.send({ seen: message.value * 10, sid: message.sid });
      });
      const replies = await Promise.all([1, 2, 3].map((value) => pair.clientPort.request({ value })));
      expect(replies.map((r) => r.seen)).toEqual([10, 20, 30]);
      const session = client.createSession(pair.clientPort.name);
      expect((await session.send({ value: 4 })).seen).toBe(40);
      expect((await session.send({ value: 5 })).seen).toBe(50);
      session.end();
      off();
      expect(errors).toEqual([]);
    });

    test("closing the channel aborts every pending session at once", async () => {
      server.handle(() => new Promise(() => {})); // never answers
      const pending = Array.from({ length: 20 }, (_, i) =>
        pair.clientPort.request({ i }, { timeout: 60_000 }).catch((e: unknown) => e),
      );
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      await pair.disconnect();
      const results = await Promise.all(pending);
      expect(Date.now() - started).toBeLessThan(2000);
      for (const r of results) expect(r).toBeInstanceOf(SessionAbortError);
    });

    test("hostile inbound messages are reported, never thrown, and disturb nothing", async () => {
      server.handle((m) => ({ ok: m.n }));
      const seen: unknown[] = [];
      server.on("message", (m) => void seen.push(m));
      const inputs = [...HOSTILE_INPUTS, ...(options.hostile ?? [])];
      for (const value of inputs) await pair.sendRaw(value);
      // The channel still works both ways afterwards.
      expect(await pair.clientPort.request({ n: 7 })).toMatchObject({ ok: 7 });
      await new Promise((r) => setTimeout(r, 20));
      // Every hostile input surfaced exactly once, as a message or an error; none became a session.
      const withSid = inputs.filter((v) => typeof v === "object" && v !== null && !Array.isArray(v) && Object.hasOwn(v, "sid"));
      expect(errors.filter((e) => /invalid sid/.test(e.message))).toHaveLength(withSid.length);
      expect(seen.length + errors.length).toBe(inputs.length);
      for (const e of errors) expect(e).toBeInstanceOf(Error);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(server.size).toBe(0);
    });

    test(`${concurrency} concurrent sessions`, async () => {
      server.handle(async (m) => {
        await new Promise((r) => setTimeout(r, m.n % 5));
        return { n: m.n * 2 };
      });
      const replies = await Promise.all(
        Array.from({ length: concurrency }, (_, n) => pair.clientPort.request({ n })),
      );
      replies.forEach((r, n) => expect(r.n).toBe(n * 2));
      expect(client.size).toBe(0);
      expect(server.size).toBe(0);
      expect(errors).toEqual([]);
    });
  });
}
