// Issue 14 with the attacking peer written by hand (raw WebSocket frames over node:net): forged
// answers, errors, cancels and progress aimed at another connection's sessions, `__proto__` keys,
// taking over a live connection's port name, naming a port the server did not make, and more
// sessions than maxResponders.
import { attach } from "@psession/ws";
import { SessionAbortError, type Port } from "psession";
import type { AddressInfo } from "node:net";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { defer, manager, openSocket, sleep, startServer, teardown, until } from "./helpers.js";
import { RawPeer } from "./raw-client.js";

afterEach(teardown);

const portOf = (url: string) => Number(new URL(url).port);
const byId = (_socket: unknown, request: { url?: string }) =>
  new URL(request.url ?? "/", "http://x").searchParams.get("id") ?? "anonymous";

async function peer(url: string, path = "/"): Promise<RawPeer> {
  const raw = await RawPeer.connect(portOf(url), path);
  defer(() => raw.socket.destroy());
  return raw;
}

/** Sends a request the server answers, and waits for its answer: everything sent before it was read. */
async function probe(attacker: RawPeer, sid: number): Promise<void> {
  attacker.send({ sid, probe: true });
  await until(() => attacker.messages.some((m) => m.sid === sid), 10_000);
}

test("forged answers, errors, progress and cancels for another connection's sids never reach its sessions", async () => {
  const { wss, url } = await startServer();
  const server = manager({ sessionTimeout: 20_000 });
  const handle = attach<WebSocket>(server, wss);
  let release!: (answer: unknown) => void;
  const serverAnswer = new Promise((resolve) => (release = resolve));
  let victimSignal: AbortSignal | undefined;
  server.handle((m, session) => {
    if (m.from !== "victim") return { echo: true };
    victimSignal = session.signal;
    return serverAnswer;
  });

  // The victim: a psession client with a request pending each way.
  const victim = manager({ sessionTimeout: 20_000 });
  let answerServer: ((answer: unknown) => void) | undefined;
  victim.handle(() => new Promise((resolve) => (answerServer = resolve)));
  const victimPort = attach(victim, await openSocket(url));
  await until(() => handle.ports.size === 1);
  const victimOnServer = [...handle.ports.values()][0]!;
  let progress = 0;
  let toVictimSettled = false;
  const toVictim = victimOnServer.request({ q: 1 }, { onProgress: () => void progress++ });
  toVictim.then(
    () => void (toVictimSettled = true),
    () => void (toVictimSettled = true),
  );
  let fromVictimSettled = false;
  const fromVictim = victimPort.request({ from: "victim" });
  fromVictim.then(
    () => void (fromVictimSettled = true),
    () => void (fromVictimSettled = true),
  );
  await until(() => victimSignal !== undefined && answerServer !== undefined);

  // The attacker: every kind of answer and cancel, for every sid either side could be using.
  const attacker = await peer(url);
  await until(() => handle.ports.size === 2);
  const attackerOnServer = [...handle.ports.values()].find((p) => p !== victimOnServer)!;
  for (let sid = 1; sid <= 2000; sid++) {
    attacker.send({ sid, $re: 1, forged: "answer" });
    attacker.send({ sid, $re: 1, $error: { message: "forged error", name: "SessionAbortError" } });
    attacker.send({ sid, $re: 1, $progress: true, forged: "progress" });
    attacker.send({ sid, $turn: 1, $cancel: "SessionCancelError" });
    attacker.send({ sid, $re: 1, $cancel: "SessionAbortError" });
  }
  await probe(attacker, 4001);

  expect(progress).toBe(0);
  expect(toVictimSettled).toBe(false);
  expect(fromVictimSettled).toBe(false);
  expect(victimSignal!.aborted).toBe(false);
  // What was reported (late answers) was reported on the attacker's port only.
  expect(server.errorPorts.length).toBeGreaterThan(0);
  expect(server.errorPorts.every((p) => p === attackerOnServer)).toBe(true);
  expect(attacker.messages.map((m) => m.sid)).toEqual([4001]);

  // The real answers still settle both.
  answerServer!({ from: "the victim" });
  expect(await toVictim).toMatchObject({ from: "the victim" });
  release({ from: "the server" });
  expect(await fromVictim).toMatchObject({ from: "the server" });
  expect(victim.errors).toEqual([]);
});

test("__proto__ and constructor keys pollute nothing and smuggle no session fields", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  attach<WebSocket>(server, wss);
  const handled: Record<string, unknown>[] = [];
  server.handle((m) => {
    handled.push(m);
    return { keys: Object.keys(m).sort() };
  });
  const plain: unknown[] = [];
  server.on("message", (m) => void plain.push(m));
  const names = Object.getOwnPropertyNames(Object.prototype).sort();

  const attacker = await peer(url);
  attacker.send('{"__proto__":{"polluted":"yes","sid":3},"sid":1,"n":1}');
  attacker.send('{"sid":3,"$turn":5,"constructor":{"prototype":{"polluted":"yes"}},"n":2}');
  attacker.send('{"__proto__":{"sid":5,"$turn":1},"n":3}'); // no sid of its own: a plain message
  attacker.send('{"sid":7,"$turn":6,"__proto__":{"$cancel":"x","$re":1},"n":4}');
  attacker.send('{"sid":2,"$re":1,"$error":{"__proto__":{"polluted":"yes"},"message":"x"}}');
  attacker.send('{"sid":9,"$turn":7,"$try":1,"__proto__":{"$try":2,"$progress":true},"n":5}');
  await probe(attacker, 11);

  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(names);
  expect(handled.map((m) => m.n)).toEqual([1, 2, 4, 5, undefined]);
  expect(plain).toHaveLength(1);
  expect((plain[0] as { n: number }).n).toBe(3);
  // Every request was answered on its own sid, as a request (no smuggled $cancel or $re).
  expect(attacker.messages.map((m) => m.sid)).toEqual([1, 3, 7, 9, 11]);
});

test("taking over a live connection's port name aborts its sessions at once; nothing of the first peer's goes to the second; close 1000 'superseded by a newer connection'", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  attach<WebSocket>(server, wss, { portName: byId });
  let firstSignal: AbortSignal | undefined;
  server.handle((_m, session) => {
    firstSignal = session.signal;
    return new Promise(() => {});
  });
  const first = await peer(url, "/?id=kiosk");
  await until(() => server.ports.has("kiosk"));
  const kiosk: Port = server.ports.get("kiosk")!;
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

  const second = await peer(url, "/?id=kiosk");
  const failure = await pending;
  expect(failure).toBeInstanceOf(SessionAbortError);
  expect((failure as Error).message).toMatch(/superseded/);
  expect(Date.now() - started).toBeLessThan(2500); // at once, not after its timeout and retries
  expect(firstSignal!.aborted).toBe(true);
  await first.closed;
  expect(first.close).toEqual({ code: 1000, reason: "superseded by a newer connection" });
  // The first peer was told, before the close, to stop on both sessions.
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
  expect(server.ports.get("kiosk")).toBe(kiosk);
});

test("a portName naming the manager's 'default' port (the README's ?id= pattern) is refused with 1011; the application's upstream is untouched", async () => {
  // The application's own upstream on "default".
  const upstreamServer = await startServer();
  const upstream = manager();
  upstream.handle(() => ({ from: "upstream" }));
  attach<WebSocket>(upstream, upstreamServer.wss);
  const { wss, url } = await startServer();
  const server = manager();
  attach(server, await openSocket(upstreamServer.url));
  attach<WebSocket>(server, wss, { portName: byId });

  const attacker = await peer(url, "/?id=default");
  await attacker.closed;
  expect(attacker.close).toEqual({ code: 1011, reason: "connection refused" });
  expect(server.errors).toHaveLength(1);
  expect(server.errors[0]!.message).toMatch(
    /connection refused: port "default" exists but was not made by this server/,
  );
  expect(attacker.messages).toEqual([]);
  expect(await server.request({ secret: 1 })).toMatchObject({ from: "upstream" });
  expect((wss.address() as AddressInfo).port).toBe(portOf(url));
});

test("5,000 sessions opened against a handler that never answers: 1,024 reach it, the rest are refused at once (SessionOverloadError)", async () => {
  const { wss, url } = await startServer();
  const server = manager();
  attach<WebSocket>(server, wss); // maxResponders: the default, 1,024 per port
  let started = 0;
  server.handle(() => {
    started++;
    return new Promise(() => {});
  });
  const attacker = await peer(url);
  for (let i = 0; i < 5000; i++) attacker.send({ sid: 2 * i + 1, $turn: i + 1, n: i });
  await until(() => attacker.messages.length === 5000 - 1024, 10_000);
  expect(started).toBe(1024);
  expect(server.size).toBe(1024);
  expect(attacker.messages[0]).toMatchObject({ sid: 2049, $re: 1025, $error: { name: "SessionOverloadError" } });
  expect(
    attacker.messages.every((m) => (m.$error as { name?: string } | undefined)?.name === "SessionOverloadError"),
  ).toBe(true);
});
