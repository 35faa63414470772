// Issue 14 with the attacking peer written by hand (NDJSON over node:net): forged answers, errors,
// cancels and progress aimed at another connection's sessions, `__proto__` keys, taking over a
// live connection's port name, more sessions than maxResponders. (Naming a port the server did
// not make: server-handle.test.ts.)
import net from "node:net";
import { attach, type NetServerAttachOptions } from "@psession/net";
import { SessionAbortError, SessionManager, type Port } from "psession";
import { expect, test } from "vitest";
import { track } from "./cleanup.js";
import { listen, sleep, until } from "./helpers.js";

/** A peer written by hand: NDJSON lines out, every line that comes back parsed and kept. */
class LinePeer {
  readonly messages: Record<string, unknown>[] = [];
  readonly closed: Promise<void>;
  private text = "";

  constructor(readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      this.text += chunk.toString();
      let nl: number;
      while ((nl = this.text.indexOf("\n")) !== -1) {
        this.messages.push(JSON.parse(this.text.slice(0, nl)));
        this.text = this.text.slice(nl + 1);
      }
    });
  }

  /** A value as JSON, or a string as it is, as one line. */
  send(value: unknown): void {
    this.socket.write(`${typeof value === "string" ? value : JSON.stringify(value)}\n`);
  }

  /** Sends a request the server answers and waits for it: everything sent before it was read. */
  async probe(sid: number): Promise<void> {
    this.send({ sid, probe: true });
    await until(() => this.messages.some((m) => m.sid === sid), 10_000);
  }
}

function manager(options = {}) {
  const m = track(new SessionManager({ sessionTimeout: 20_000, ...options })) as SessionManager & {
    errors: Error[];
    errorPorts: (Port | undefined)[];
  };
  m.errors = [];
  m.errorPorts = [];
  m.on("error", (e, port) => {
    m.errors.push(e);
    m.errorPorts.push(port);
  });
  return m;
}

async function server(options: NetServerAttachOptions = {}) {
  const m = manager();
  const srv = track(net.createServer());
  const handle = attach(m, srv, options);
  const { connect } = await listen("tcp", srv);
  const peer = async () => {
    const socket = track(connect());
    await new Promise((resolve) => socket.once("connect", resolve));
    return new LinePeer(socket);
  };
  return { m, handle, connect: () => track(connect()), peer };
}

test("forged answers, errors, progress and cancels for another connection's sids never reach its sessions", async () => {
  const { m: srv, handle, connect, peer } = await server();
  let release!: (answer: unknown) => void;
  const serverAnswer = new Promise((resolve) => (release = resolve));
  let victimSignal: AbortSignal | undefined;
  srv.handle((msg, session) => {
    if (msg.from !== "victim") return { echo: true };
    victimSignal = session.signal;
    return serverAnswer;
  });

  // The victim: a psession client with a request pending each way.
  const victim = manager();
  let answerServer: ((answer: unknown) => void) | undefined;
  victim.handle(() => new Promise((resolve) => (answerServer = resolve)));
  const victimPort = attach(victim, connect());
  await until(() => handle.ports.size === 1);
  const victimOnServer = [...handle.ports.values()][0]!;
  let progress = 0;
  let settled = 0;
  const toVictim = victimOnServer.request({ q: 1 }, { onProgress: () => void progress++ });
  const fromVictim = victimPort.request({ from: "victim" });
  for (const p of [toVictim, fromVictim])
    p.then(
      () => void settled++,
      () => void settled++,
    );
  await until(() => victimSignal !== undefined && answerServer !== undefined);

  // The attacker: every kind of answer and cancel, for every sid either side could be using.
  const attacker = await peer();
  await until(() => handle.ports.size === 2);
  const attackerOnServer = [...handle.ports.values()].find((p) => p !== victimOnServer)!;
  let lines = "";
  for (let sid = 1; sid <= 2000; sid++) {
    lines += `${JSON.stringify({ sid, $re: 1, forged: "answer" })}\n`;
    lines += `${JSON.stringify({ sid, $re: 1, $error: { message: "forged error", name: "SessionAbortError" } })}\n`;
    lines += `${JSON.stringify({ sid, $re: 1, $progress: true, forged: "progress" })}\n`;
    lines += `${JSON.stringify({ sid, $turn: 1, $cancel: "SessionCancelError" })}\n`;
    lines += `${JSON.stringify({ sid, $re: 1, $cancel: "SessionAbortError" })}\n`;
  }
  attacker.socket.write(lines);
  await attacker.probe(4001);

  expect(progress).toBe(0);
  expect(settled).toBe(0);
  expect(victimSignal!.aborted).toBe(false);
  // What was reported (late answers) was reported on the attacker's port only.
  expect(srv.errorPorts.length).toBeGreaterThan(0);
  expect(srv.errorPorts.every((p) => p === attackerOnServer)).toBe(true);
  expect(attacker.messages.map((msg) => msg.sid)).toEqual([4001]);

  // The real answers still settle both.
  answerServer!({ from: "the victim" });
  expect(await toVictim).toMatchObject({ from: "the victim" });
  release({ from: "the server" });
  expect(await fromVictim).toMatchObject({ from: "the server" });
  expect(victim.errors).toEqual([]);
});

test("__proto__ and constructor keys pollute nothing and smuggle no session fields", async () => {
  const { m: srv, peer } = await server();
  const handled: Record<string, unknown>[] = [];
  srv.handle((msg) => {
    handled.push(msg);
    return { keys: Object.keys(msg).sort() };
  });
  const plain: unknown[] = [];
  srv.on("message", (msg) => void plain.push(msg));
  const names = Object.getOwnPropertyNames(Object.prototype).sort();

  const attacker = await peer();
  attacker.send('{"__proto__":{"polluted":"yes","sid":3},"sid":1,"n":1}');
  attacker.send('{"sid":3,"$turn":5,"constructor":{"prototype":{"polluted":"yes"}},"n":2}');
  attacker.send('{"__proto__":{"sid":5,"$turn":1},"n":3}'); // no sid of its own: a plain message
  attacker.send('{"sid":7,"$turn":6,"__proto__":{"$cancel":"x","$re":1},"n":4}');
  attacker.send('{"sid":2,"$re":1,"$error":{"__proto__":{"polluted":"yes"},"message":"x"}}');
  attacker.send('{"sid":9,"$turn":7,"$try":1,"__proto__":{"$try":2,"$progress":true},"n":5}');
  await attacker.probe(11);

  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(names);
  expect(handled.map((msg) => msg.n)).toEqual([1, 2, 4, 5, undefined]);
  expect(plain).toHaveLength(1);
  expect((plain[0] as { n: number }).n).toBe(3);
  // Every request was answered on its own sid, as a request (no smuggled $cancel or $re).
  expect(attacker.messages.map((msg) => msg.sid)).toEqual([1, 3, 7, 9, 11]);
});

test("taking over a live connection's port name aborts its sessions at once; nothing of the first peer's goes to the second; the first gets FIN", async () => {
  const { m: srv, peer } = await server({ portName: () => "kiosk" });
  let firstSignal: AbortSignal | undefined;
  srv.handle((_msg, session) => {
    firstSignal = session.signal;
    return new Promise(() => {});
  });
  const first = await peer();
  await until(() => srv.ports.has("kiosk"));
  const kiosk = srv.ports.get("kiosk")!;
  const started = Date.now();
  const pending = kiosk
    .request({ secret: "for the first peer" }, { timeout: 3000, retryCount: 5, retryInterval: 20 })
    .then(
      () => "resolved",
      (e: unknown) => e,
    );
  await until(() => first.messages.length === 1);
  const request = first.messages[0]!;
  first.send({ sid: 1, $turn: 1, work: "for the first peer" });
  await until(() => firstSignal !== undefined);

  const second = await peer();
  const failure = await pending;
  expect(failure).toBeInstanceOf(SessionAbortError);
  expect((failure as Error).message).toMatch(/superseded/);
  expect(Date.now() - started).toBeLessThan(2500); // at once, not after its timeout and retries
  expect(firstSignal!.aborted).toBe(true);
  await first.closed;
  // The first peer was told, before its connection ended, to stop on both sessions.
  expect(first.messages).toContainEqual(expect.objectContaining({ sid: request.sid, $cancel: "SessionAbortError" }));
  expect(first.messages).toContainEqual(expect.objectContaining({ sid: 1, $cancel: "SessionAbortError" }));
  await sleep(200); // past every retry interval
  expect(second.messages).toEqual([]);

  // The port now talks to the second peer only.
  const next = kiosk.request({ hello: 2 });
  await until(() => second.messages.length === 1);
  const asked = second.messages[0]!;
  expect(asked).toMatchObject({ hello: 2 });
  second.send({ sid: asked.sid, $re: asked.$turn, ok: "second" });
  expect(await next).toMatchObject({ ok: "second" });
  expect(srv.ports.get("kiosk")).toBe(kiosk);
});

test("5,000 sessions opened against a handler that never answers: 1,024 reach it, the rest are refused at once (SessionOverloadError)", async () => {
  const { m: srv, peer } = await server(); // maxResponders: the default, 1,024 per port
  let started = 0;
  srv.handle(() => {
    started++;
    return new Promise(() => {});
  });
  const attacker = await peer();
  let lines = "";
  for (let i = 0; i < 5000; i++) lines += `${JSON.stringify({ sid: 2 * i + 1, $turn: i + 1, n: i })}\n`;
  attacker.socket.write(lines);
  await until(() => attacker.messages.length === 5000 - 1024, 10_000);
  expect(started).toBe(1024);
  expect(srv.size).toBe(1024);
  expect(attacker.messages[0]).toMatchObject({ sid: 2049, $re: 1025, $error: { name: "SessionOverloadError" } });
  expect(
    attacker.messages.every((m) => (m.$error as { name?: string } | undefined)?.name === "SessionOverloadError"),
  ).toBe(true);
});
