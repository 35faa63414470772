// Issue 8 item 1 and issue 15 items 5, 9, 10: no message can start an endless exchange, a turn
// runs once, and a reply only ever resolves the turn it answers.
import { afterEach, describe, expect, test } from "vitest";
import {
  SessionCancelError,
  SessionManager,
  SessionTimeoutError,
  attach,
  createMemoryTransportPair,
  type Message,
  type Transport,
} from "psession";
import { delay, settle } from "./helpers.js";

let managers: SessionManager[] = [];
afterEach(() => {
  for (const m of managers) m.clear();
  managers = [];
});

function make(options: ConstructorParameters<typeof SessionManager>[0] = {}): SessionManager {
  const m = new SessionManager(options);
  m.on("error", () => {});
  managers.push(m);
  return m;
}

/** Wraps a memory end: counts what crosses, and can delay, duplicate or drop it. */
function wire<M>(end: Transport<M>, plan: { delay?: () => number; copies?: () => number } = {}) {
  const counter = { sent: 0 };
  const transport: Transport<M> = {
    role: end.role,
    duplicates: plan.copies !== undefined, // the contract: a channel that may deliver twice says so
    send(message) {
      const copies = plan.copies?.() ?? 1;
      for (let i = 0; i < copies; i++) {
        counter.sent++;
        const wait = plan.delay?.() ?? 0;
        if (wait > 0) setTimeout(() => end.send(message), wait);
        else end.send(message);
      }
    },
    onMessage: (l) => end.onMessage(l),
    onClose: (l) => end.onClose!(l),
  };
  return { transport, counter };
}

describe("no endless exchange (issue 8 item 1)", () => {
  for (const roles of ["automatic roles", "role-less"] as const) {
    test(`the issue's reproduction ends with each handler run once (${roles})`, async () => {
      const [ta, tb] = createMemoryTransportPair();
      const A = make();
      const B = make();
      const a = wire(ta);
      const b = wire(tb);
      const options = roles === "role-less" ? { role: undefined } : {};
      attach(A, a.transport, options);
      attach(B, b.transport, options);
      let runsA = 0;
      let runsB = 0;
      A.handle(() => ({ from: "A", run: ++runsA }));
      B.handle(async () => {
        runsB++;
        await delay(50);
        return { from: "B" };
      });
      expect(await settle(A.request({ hello: 1 }, { timeout: 10 }))).toBeInstanceOf(SessionTimeoutError);
      await delay(150);
      expect(runsB).toBe(1);
      expect(runsA).toBe(0);
      // The request, the cancel notice; B's late answer is dropped on B's side once cancelled.
      expect(a.counter.sent + b.counter.sent).toBeLessThanOrEqual(3);
    });
  }

  test("every message duplicated, role-less: each handler runs once per request", async () => {
    const [ta, tb] = createMemoryTransportPair();
    const A = make();
    const B = make();
    const a = wire(ta, { copies: () => 2 });
    const b = wire(tb, { copies: () => 2 });
    attach(A, a.transport, { role: undefined });
    attach(B, b.transport, { role: undefined });
    let runs = 0;
    A.handle(() => ({ from: "A" }));
    B.handle((m) => ({ from: "B", n: m.n, run: ++runs }));
    for (let n = 0; n < 20; n++) expect(await A.request({ n })).toMatchObject({ from: "B", n });
    await delay(20);
    expect(runs).toBe(20);
    // 20 requests and 20 answers, each sent twice: nothing more.
    expect(a.counter.sent + b.counter.sent).toBe(80);
  });

  test("a stray frame between two role-less managers without handlers is answered once (issue 15 item 10)", async () => {
    const [ta, tb] = createMemoryTransportPair();
    const A = make();
    const B = make();
    const a = wire(ta);
    const b = wire(tb);
    attach(A, a.transport, { role: undefined });
    attach(B, b.transport, { role: undefined });
    ta.send({ sid: 5, stray: true }); // straight onto the channel, as a buggy peer would
    await delay(50);
    // B answers the stray frame with "unhandled"; that error answer never opens a session on A.
    expect(b.counter.sent).toBe(1);
    expect(a.counter.sent).toBe(0);
  });

  test("a peer that answers every frame with its sid only: late echoes never start an exchange (role-less)", async () => {
    const [ta, tb] = createMemoryTransportPair<Message>();
    const A = make({ sessionTimeout: 10 });
    attach(A, ta, { role: undefined });
    let answered = 0;
    let handled = 0;
    A.handle(() => ({ handled: ++handled }));
    tb.onMessage((m) => {
      answered++;
      setTimeout(() => tb.send({ sid: m.sid }), 30); // always too late
    });
    for (let i = 0; i < 5; i++) expect(await settle(A.request({ i }))).toBeInstanceOf(SessionTimeoutError);
    await delay(100);
    expect(handled).toBe(0);
    // 5 requests and 5 cancel notices reached the echo peer; nothing went on after that.
    expect(answered).toBe(10);
  });

  test("a device that answers with the request object plus fields works for dialogues (echoed fields are ignored)", async () => {
    const [ta, tb] = createMemoryTransportPair<Message>();
    const A = make();
    attach(A, ta);
    const ran: string[] = [];
    tb.onMessage((m) => {
      if (m.$cancel !== undefined) return;
      ran.push(String(m.command ?? m.password));
      tb.send({ ...m, status: m.command === "turnOnLight" ? "needPassword" : "ok" });
    });
    const s = A.createSession();
    expect(await s.send({ command: "turnOnLight" })).toMatchObject({ status: "needPassword" });
    expect(await s.send({ password: "123456" })).toMatchObject({ status: "ok" });
    s.end();
    expect(ran).toEqual(["turnOnLight", "123456"]);
  });
});

describe("a turn runs once (issue 15 item 5)", () => {
  test("turn 1 retried on a slow link, turn 2 without retries: the handler runs login, transfer", async () => {
    const [ta, tb] = createMemoryTransportPair();
    const A = make();
    const B = make();
    attach(A, wire(ta, { delay: () => 40 }).transport);
    attach(B, wire(tb, { delay: () => 40 }).transport);
    const ran: string[] = [];
    B.on("session:create", (session) => {
      session.on("next", (m: Message) => {
        ran.push(m.command);
        // Answers echo the request, as many devices do.
        session.post({ ...m, status: "ok" });
      });
    });
    const s = A.createSession();
    // 80 ms round trip, 50 ms timeout: turn 1 is sent twice and answered twice.
    expect(await s.send({ command: "login" }, { timeout: 50, retryCount: 1 })).toMatchObject({ status: "ok" });
    expect(await s.send({ command: "transfer" }, { timeout: 1000 })).toMatchObject({ status: "ok" });
    await delay(200);
    s.end();
    expect(ran).toEqual(["login", "transfer"]);
  });

  test("an echoing device: a send without retries is transmitted once, whatever comes back twice", async () => {
    const [ta, tb] = createMemoryTransportPair<Message>();
    const A = make();
    attach(A, ta);
    const received: Message[] = [];
    tb.onMessage((m) => {
      received.push(m);
      if (m.$cancel !== undefined) return;
      const answer = { ...m, status: "ok" };
      tb.send(answer);
      setTimeout(() => tb.send(answer), 20); // a duplicated answer (QoS 1)
    });
    const s = A.createSession();
    await s.send({ command: "login" }, { retryCount: 1, timeout: 500 });
    await s.send({ command: "dispense" });
    await delay(60);
    s.end();
    expect(received.map((m) => m.command)).toEqual(["login", "dispense"]);
  });
});

describe("replies matched to their turn (issue 8 item 3)", () => {
  test("a late copy of a middle turn's reply is not taken for the next turn's reply", async () => {
    const [ta, tb] = createMemoryTransportPair<Message>();
    const A = make();
    const B = make();
    attach(A, ta);
    // B's answer to step 2 arrives twice: at once, and again 40 ms later (a channel that repeats).
    const repeating: Transport<Message> = {
      role: tb.role,
      duplicates: true,
      send(m) {
        tb.send(m);
        if (m.answer === 2) setTimeout(() => tb.send(m), 40);
      },
      onMessage: (l) => tb.onMessage(l),
      onClose: (l) => tb.onClose!(l),
    };
    attach(B, repeating);
    const stale: Error[] = [];
    A.on("error", (e) => void stale.push(e));
    B.on("session:create", (session) => {
      session.on("next", async (m: Message) => {
        if (m.step === 3) await delay(80); // turn 3 is still waiting when the copy arrives
        session.post({ answer: m.step });
      });
    });
    const s = A.createSession();
    expect(await s.send({ step: 1 })).toMatchObject({ answer: 1 });
    expect(await s.send({ step: 2 })).toMatchObject({ answer: 2 });
    expect(await s.send({ step: 3 }, { timeout: 500 })).toMatchObject({ answer: 3 });
    s.end();
    expect(stale.map((e) => e.message)).toEqual([expect.stringMatching(/a reply to an earlier turn \(2, now 3\)/)]);
  });

  test("a turn sent after the responder's session ended is refused at once, never run as a new session", async () => {
    // Turn 2 times out for good: the opener tells the responder to stop ($cancel), which ends the
    // session there. A turn 3 on the same session must not open a new one (the handler would take
    // a password for a command); the responder refuses it and the opener's send fails now.
    const [ta, tb] = createMemoryTransportPair();
    const A = make();
    const B = make();
    attach(A, ta);
    attach(B, tb);
    const opened: Message[] = [];
    B.handle(async (m, session) => {
      opened.push(m);
      await session.send({ need: "step 2" });
      await delay(60); // the opener gives up on turn 2 meanwhile
      return { done: true };
    });
    const s = A.createSession();
    expect(await s.send({ step: 1 })).toMatchObject({ need: "step 2" });
    expect(await settle(s.send({ step: 2 }, { timeout: 30 }))).toBeInstanceOf(SessionTimeoutError);
    const started = Date.now();
    const third = await settle(s.send({ step: 3 }, { timeout: 2000 }));
    expect(third).toBeInstanceOf(SessionCancelError);
    expect((third as Error).message).toMatch(/cancelled by the remote: SessionInvalidError/);
    expect(Date.now() - started).toBeLessThan(1000); // told, not timed out
    expect(opened).toEqual([expect.objectContaining({ step: 1 })]);
    expect(B.stats().late).toBe(1);
  });

  test("recycled sids: the victim's late reply never reaches the newcomer (issue 15 item 9)", async () => {
    const [ta, tb] = createMemoryTransportPair();
    const A = make({ maxSessionCount: 8 }); // role "client": 4 odd ids
    const B = make({ maxSessionCount: 8 });
    attach(A, ta);
    attach(B, tb);
    B.handle(async (m) => {
      if (m.user !== "carol") await delay(40);
      return { balance: `${m.user}'s` };
    });
    const first = ["alice", "bob", "dave", "erin"].map((user) => settle(A.request({ user })));
    const carol = A.request({ user: "carol" }, { timeout: 500 }); // recycles alice's sid
    expect(await first[0]).toBeInstanceOf(SessionCancelError);
    expect(await carol).toMatchObject({ balance: "carol's" });
    await Promise.all(first);
  });

  test("recycled sids: a late $cancel of the old session never cancels the newcomer (opener side)", async () => {
    const [ta, tb] = createMemoryTransportPair();
    const A = make({ maxSessionCount: 2 }); // role "client": the one odd id, 1
    attach(A, ta);
    const seen: Message[] = [];
    tb.onMessage((m) => void seen.push(m as Message));
    const alice = settle(A.request({ user: "alice" }));
    await delay(5);
    const carol = A.request({ user: "carol" }, { timeout: 2000 }); // recycles alice's sid
    expect(await alice).toBeInstanceOf(SessionCancelError);
    await delay(5);
    const [a, c] = seen.filter((m) => m.$cancel === undefined);
    expect(c!.sid).toBe(a!.sid);
    expect(c!.$turn).toBeGreaterThan(a!.$turn as number);
    // The responder aborts alice's session; its notice arrives after carol took the sid.
    tb.send({ sid: a!.sid, $re: a!.$turn, $cancel: "SessionAbortError" });
    tb.send({ sid: c!.sid, $re: c!.$turn, balance: "carol's" });
    expect(await carol).toMatchObject({ balance: "carol's" });
    // A cancel naming carol's own turn still ends her next one.
    const session = A.createSession();
    const pending = settle(session.send({ user: "dan" }, { timeout: 2000 }));
    await delay(5);
    const d = seen.at(-1)!;
    tb.send({ sid: d.sid, $re: d.$turn, $cancel: "SessionAbortError" });
    expect(await pending).toBeInstanceOf(SessionCancelError);
  });

  test("recycled sids: a late $cancel of the old session never cancels the newcomer (responder side)", async () => {
    const [ta, tb] = createMemoryTransportPair();
    const B = make(); // role "server": answers the client's odd ids
    attach(B, tb);
    const aborted: string[] = [];
    B.handle(async (m, session) => {
      await delay(m.user === "alice" ? 5 : 40);
      if (session.signal.aborted) aborted.push(m.user as string);
      return { balance: `${m.user}'s` };
    });
    const answers: Message[] = [];
    ta.onMessage((m) => void answers.push(m as Message));
    ta.send({ sid: 1, $turn: 1, user: "alice" });
    await delay(20); // alice answered: her session ended at B
    ta.send({ sid: 1, $turn: 2, user: "carol" }); // the opener recycled sid 1
    // A duplicate of alice's old cancel (an at-least-once channel delivering it late).
    ta.send({ sid: 1, $turn: 1, $cancel: "SessionTimeoutError" });
    await delay(80);
    expect(aborted).toEqual([]);
    expect(answers.map((m) => m.balance)).toEqual(["alice's", "carol's"]);
    // The same cancel naming carol's turn reaches her session.
    ta.send({ sid: 3, $turn: 3, user: "erin" });
    await delay(5);
    ta.send({ sid: 3, $turn: 3, $cancel: "SessionCancelError" });
    await delay(60);
    expect(aborted).toEqual(["erin"]);
  });

  test("a session:end listener that opens a session during recycling gets its own sid", () => {
    const A = make({ sender: () => {}, maxSessionCount: 4 });
    const sessions = [1, 2, 3, 4].map(() => A.createSession());
    let opened: number | undefined;
    A.on("session:end", (s) => {
      if (s === sessions[0]) opened = A.createSession().id;
    });
    const newcomer = A.createSession();
    const live = [...A.default.sessions.values()].map((s) => s.id).sort();
    expect(new Set(live).size).toBe(live.length);
    expect(opened).not.toBe(newcomer.id);
    expect(A.size).toBe(4);
  });
});
