// Issue 8 item 7: a device written from docs/protocol.md alone (no psession import on its side),
// over a real TCP socket with NDJSON framing, runs a dialogue, a retry, a cancel and progress
// against psession.
import { createServer, connect, type Server, type Socket } from "node:net";
import { afterEach, expect, test } from "vitest";
import { SessionCancelError, SessionManager, attach, type Transport } from "psession";
import { delay, settle } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
type Json = Record<string, any>;

/** The hand-written device: "What a full peer does", rule by rule. */
function startDevice() {
  const log: string[] = [];
  const live = new Map<number, { turn: number; lastOut?: Json; cancelled: boolean; state?: string }>();
  const ended = new Map<number, { turn: number; out?: Json }>();
  let dropNextToggleAnswer = true;
  let toggles = 0;
  const server: Server = createServer((socket) => {
    let buffer = "";
    const send = (message: Json) => socket.write(`${JSON.stringify(message)}\n`);
    const answer = (sid: number, body: Json, end: boolean, lose = false) => {
      const s = live.get(sid);
      if (s === undefined || s.cancelled) return; // after $cancel: send nothing more
      const out = { ...body, sid, $re: s.turn };
      s.lastOut = out;
      if (!lose) send(out);
      if (end) {
        ended.set(sid, { turn: s.turn, out });
        live.delete(sid);
      }
    };
    const onMessage = async (m: Json) => {
      const sid = m.sid;
      if (typeof sid !== "number") return;
      if (m.$cancel !== undefined) {
        const s = live.get(sid);
        if (s !== undefined) s.cancelled = true;
        log.push(`cancel ${sid} (${m.$cancel})`);
        return;
      }
      let s = live.get(sid);
      if (s === undefined) {
        const old = ended.get(sid);
        if (old !== undefined && m.$turn <= old.turn) {
          if (m.$try !== undefined && m.$turn === old.turn && old.out) send(old.out); // a retried, answered turn
          return;
        }
        if (m.$re !== undefined) {
          // A later turn of a session this device no longer has: refuse it, never start work on it.
          log.push(`refused turn ${m.$turn}`);
          send({ sid, $re: m.$turn, $cancel: "SessionInvalidError" });
          return;
        }
        s = { turn: 0, cancelled: false };
        live.set(sid, s);
      }
      if (m.$turn <= s.turn) {
        if (m.$try !== undefined && m.$turn === s.turn && s.lastOut?.$re === s.turn) send(s.lastOut);
        return;
      }
      s.turn = m.$turn;
      if (m.command === "turnOnLight") {
        s.state = "needPassword";
        log.push("turnOnLight");
        answer(sid, { status: "needPassword" }, false);
      } else if (s.state === "needPassword") {
        log.push(`password ${m.password}`);
        answer(sid, { status: m.password === "123456" ? "ok" : "denied" }, true);
      } else if (m.command === "toggle") {
        toggles++;
        log.push("toggle");
        answer(sid, { on: toggles % 2 === 1 }, true, dropNextToggleAnswer);
        dropNextToggleAnswer = false;
      } else if (m.command === "heat") {
        for (let t = 18; t < 21; t++) {
          await delay(15);
          if (s.cancelled) return;
          send({ sid, $re: s.turn, $progress: true, temperature: t });
        }
        answer(sid, { temperature: 21 }, true);
      } else if (m.command === "slow") {
        log.push("slow started");
        for (let i = 0; i < 20 && !s.cancelled; i++) await delay(10);
        log.push(s.cancelled ? "slow stopped" : "slow finished");
        answer(sid, { done: true }, true);
      } else {
        answer(sid, { $error: { name: "UnknownCommand", message: `unknown command ${String(m.command)}` } }, true);
      }
    };
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line !== "") void onMessage(JSON.parse(line));
      }
    });
    socket.on("error", () => {});
  });
  return { server, log };
}

/** The psession side: a bare NDJSON Transport over a client socket (no adapter needed). */
function ndjson(socket: Socket): Transport<Json> {
  return {
    role: "client",
    send: (m) => void socket.write(`${JSON.stringify(m)}\n`),
    onMessage(listener) {
      let buffer = "";
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString("utf8");
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line !== "") listener(JSON.parse(line));
        }
      };
      socket.on("data", onData);
      return () => void socket.off("data", onData);
    },
    onClose(listener) {
      socket.on("close", listener);
      return () => void socket.off("close", listener);
    },
  };
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function setUp() {
  const device = startDevice();
  await new Promise<void>((resolve) => device.server.listen(0, "127.0.0.1", resolve));
  const { port } = device.server.address() as { port: number };
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const manager = new SessionManager({ sessionTimeout: 2000 });
  const errors: Error[] = [];
  manager.on("error", (e) => void errors.push(e));
  attach(manager, ndjson(socket));
  cleanup.push(() => {
    manager.clear();
    socket.destroy();
    device.server.close();
  });
  return { manager, log: device.log, errors };
}

test("a dialogue: turnOnLight → needPassword → password → ok", async () => {
  const { manager, log } = await setUp();
  const session = manager.createSession();
  expect(await session.send({ command: "turnOnLight" })).toMatchObject({ status: "needPassword", $re: 1 });
  expect(await session.send({ password: "123456" })).toMatchObject({ status: "ok", $re: 2 });
  session.end();
  expect(log).toEqual(["turnOnLight", "password 123456"]);
});

test("a turn after the device ended the session is refused: the send fails at once, nothing runs", async () => {
  const { manager, log } = await setUp();
  const session = manager.createSession();
  await session.send({ command: "turnOnLight" });
  expect(await session.send({ password: "123456" })).toMatchObject({ status: "ok" });
  // The device ended the session with "ok"; one more turn on it must not run as a new command.
  const late = await settle(session.send({ command: "turnOnLight" }));
  expect(late).toBeInstanceOf(SessionCancelError);
  expect((late as Error).message).toMatch(/cancelled by the remote: SessionInvalidError/);
  expect(log).toEqual(["turnOnLight", "password 123456", "refused turn 3"]);
});

test("a retry after a lost answer: the device runs the toggle once and answers the retry from what it kept", async () => {
  const { manager, log } = await setUp();
  const reply = await manager.request({ command: "toggle" }, { timeout: 60, retryCount: 2 });
  expect(reply).toMatchObject({ on: true });
  expect(log).toEqual(["toggle"]);
});

test("progress: interim temperatures reach onProgress and keep a 30 ms timeout alive", async () => {
  const { manager } = await setUp();
  const seen: number[] = [];
  const reply = await manager.request(
    { command: "heat" },
    { timeout: 30, onProgress: (p) => void seen.push(p.temperature) },
  );
  expect(reply).toMatchObject({ temperature: 21 });
  expect(seen).toEqual([18, 19, 20]);
});

test("cancel: the device is told and stops working", async () => {
  const { manager, log } = await setUp();
  const session = manager.createSession();
  const pending = settle(session.send({ command: "slow" }));
  await delay(30);
  session.cancel();
  expect(await pending).toBeInstanceOf(SessionCancelError);
  await delay(60);
  expect(log).toEqual(["slow started", `cancel ${session.id} (SessionCancelError)`, "slow stopped"]);
  session.end();
});
