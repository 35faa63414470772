// Statistics (issue 12): exact counts after scripted traffic over a real in-memory channel, and the
// round-trip histogram against known delays (fake clock: the delays are exact).
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  SessionAbortError,
  SessionCancelError,
  SessionManager,
  SessionRemoteError,
  SessionTimeoutError,
  attach,
  createMemoryTransportPair,
  type PortState,
  type Session,
} from "psession";
import { Histogram } from "../src/histogram.js";
import { delay, loopback, settle } from "./helpers.js";

let managers: SessionManager[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const m of managers) m.clear();
  managers = [];
});

/** A handler that answers `{ ok }`, throws on `fail`, and works until cancelled on `slow`. */
function serve(server: SessionManager): void {
  server.handle(async (m, session: Session) => {
    if (m.fail) throw new Error("no such lamp");
    if (m.slow) {
      await new Promise((resolve) => session.signal.addEventListener("abort", resolve));
      return { late: true };
    }
    return { ok: m.n };
  });
}

function setup() {
  const l = loopback();
  managers.push(l.client, l.server);
  serve(l.server);
  return l;
}

const none = { replied: 0, timedOut: 0, cancelled: 0, aborted: 0, remoteError: 0, expired: 0, failed: 0 };

describe("exact counts after scripted traffic", () => {
  test("replies and a remote error", async () => {
    const { clientPort, serverPort, errors } = setup();
    for (let n = 0; n < 3; n++) expect(await clientPort.request({ n })).toMatchObject({ ok: n });
    expect(await settle(clientPort.request({ fail: true }))).toBeInstanceOf(SessionRemoteError);

    const c = clientPort.stats();
    expect(c).toMatchObject({ port: "default", state: "attached", created: 4, live: 0, requests: 4 });
    expect(c.ended).toEqual({ ...none, replied: 3, remoteError: 1 });
    expect(c).toMatchObject({ timeouts: 0, retries: 0, duplicates: 0, late: 0, messagesSent: 4, messagesReceived: 4 });
    expect(c.roundTrip.count).toBe(4);
    // The memory transport counts no bytes.
    expect(c.bytesSent).toBeUndefined();

    const s = serverPort.stats();
    // The responder answered all four (one answer being the error): each ended normally.
    expect(s).toMatchObject({ created: 4, live: 0, requests: 0, messagesSent: 4, messagesReceived: 4 });
    expect(s.ended).toEqual({ ...none, replied: 4 });
    expect(s.roundTrip.count).toBe(0);
    expect(errors).toEqual([]);
  });

  test("a timeout after two retries: the remote sees two duplicates and a cancel", async () => {
    const { clientPort, serverPort } = setup();
    const r = await settle(clientPort.request({ slow: true }, { timeout: 40, retryCount: 2 }));
    expect(r).toBeInstanceOf(SessionTimeoutError);
    await delay(5); // the cancel notice reaches the server

    const c = clientPort.stats();
    // 3 attempts and the cancel notice that tells the remote to stop.
    expect(c).toMatchObject({ created: 1, requests: 1, retries: 2, timeouts: 1, messagesSent: 4, messagesReceived: 0 });
    expect(c.ended).toEqual({ ...none, timedOut: 1 });
    expect(c.roundTrip.count).toBe(0);

    const s = serverPort.stats();
    expect(s).toMatchObject({ created: 1, live: 0, duplicates: 2, messagesReceived: 4, messagesSent: 0 });
    expect(s.ended).toEqual({ ...none, cancelled: 1 });
  });

  test("a cancel and an abort, on both sides", async () => {
    const { client, clientPort, serverPort } = setup();
    const once = client.createSession({ once: true });
    const cancelled = settle(once.send({ slow: true }));
    const controller = new AbortController();
    const aborted = settle(clientPort.request({ slow: true }, { signal: controller.signal }));
    await delay(5);
    once.cancel();
    controller.abort();
    expect(await cancelled).toBeInstanceOf(SessionCancelError);
    expect(await aborted).toBeInstanceOf(SessionAbortError);
    await delay(5);

    const c = clientPort.stats();
    expect(c).toMatchObject({ created: 2, live: 0, requests: 2, messagesSent: 4, timeouts: 0 });
    expect(c.ended).toEqual({ ...none, cancelled: 1, aborted: 1 });
    const s = serverPort.stats();
    // Both were cancelled by the remote, whatever the reason it gave.
    expect(s).toMatchObject({ created: 2, live: 0, messagesReceived: 4 });
    expect(s.ended).toEqual({ ...none, cancelled: 2 });
  });

  test("a late reply is counted, not resolved", async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new SessionManager();
    managers.push(client);
    client.on("error", () => {});
    const port = attach(client, a, { role: "client" });
    const seen: Record<string, unknown>[] = [];
    b.onMessage((m) => void seen.push(m as Record<string, unknown>));
    expect(await settle(port.request({ q: 1 }, { timeout: 10 }))).toBeInstanceOf(SessionTimeoutError);
    const request = seen[0]!;
    b.send({ sid: request.sid, $re: request.$turn, answer: "too late" });
    await delay(1);
    expect(port.stats()).toMatchObject({ late: 1, timeouts: 1, messagesReceived: 1 });
  });

  test("a dropped connection: the port's counts stay in the manager's totals", async () => {
    const { client, server, clientEnd, clientPort } = setup();
    const states: [string, PortState, PortState | undefined][] = [];
    client.on("port:state", (port, state, previous) => void states.push([port.name, state, previous]));
    const srv = createMemoryTransportPair();
    const extra = attach(client, srv[0], { port: "extra", role: "client" });
    attach(server, srv[1], { port: "extra", role: "server" });
    expect(await extra.request({ n: 7 })).toMatchObject({ ok: 7 });
    const pending = settle(extra.request({ slow: true }));
    await delay(5);
    srv[1].close(new Error("cable pulled"));
    expect(await pending).toBeInstanceOf(SessionAbortError);
    expect(extra.state).toBe("destroyed");
    expect(states).toEqual([
      ["extra", "attached", undefined],
      ["extra", "destroyed", "attached"],
    ]);

    expect(await clientPort.request({ n: 1 })).toMatchObject({ ok: 1 });
    const total = client.stats();
    expect(total.ports).toEqual({ attached: 1, detached: 0, destroyed: 1 });
    expect(total).toMatchObject({ created: 3, live: 0, requests: 3, messagesReceived: 2 });
    expect(total.ended).toEqual({ ...none, replied: 2, aborted: 1 });
    expect(total.roundTrip.count).toBe(2);
    clientEnd.close();
    const after = client.stats();
    // The "default" port is never removed: detached, its counts still there.
    expect(after.ports).toEqual({ attached: 0, detached: 1, destroyed: 1 });
    expect(after.requests).toBe(3);
  });
});

describe("the other outcomes and a repeat after the end", () => {
  test("expired (idle past sessionMaxLife) and failed (no transport to send on)", async () => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "performance", "Date"],
    });
    const m = new SessionManager({ sender: () => {}, sessionMaxLife: 3000 });
    managers.push(m);
    m.on("error", () => {});
    const idle = m.createSession();
    const nowhere = m.createPort("nowhere");
    expect(await settle(nowhere.request({ q: 1 }))).toMatchObject({ name: "SessionSendError" });
    await vi.advanceTimersByTimeAsync(6000);
    expect(idle.ended).toBe(true);
    expect(m.default.stats().ended).toEqual({ ...none, expired: 1 });
    expect(nowhere.stats()).toMatchObject({ requests: 1, messagesSent: 0, ended: { ...none, failed: 1 } });
    expect(m.stats().ended).toEqual({ ...none, expired: 1, failed: 1 });
  });

  test("a retried turn that comes after the answer is answered again from memory and counted once", async () => {
    const [a, b] = createMemoryTransportPair();
    const server = new SessionManager();
    managers.push(server);
    const port = attach(server, b, { role: "server" });
    let runs = 0;
    server.handle(() => ({ run: ++runs }));
    const answers: unknown[] = [];
    a.onMessage((m) => void answers.push(m));
    a.send({ sid: 1, $turn: 1, $try: 1, q: "on" });
    await delay(1);
    a.send({ sid: 1, $turn: 1, $try: 2, q: "on" }); // our copy of the answer was lost: ask again
    await delay(1);
    expect(runs).toBe(1);
    expect(answers).toHaveLength(2);
    expect(port.stats()).toMatchObject({ created: 1, duplicates: 1, messagesReceived: 2, messagesSent: 2 });
  });
});

describe("port state and liveness", () => {
  test("attached → detached (kept for a reconnect) → attached → destroyed", async () => {
    const m = new SessionManager();
    managers.push(m);
    const events: [PortState, PortState | undefined][] = [];
    m.on("port:state", (port, state, previous) => {
      if (port.name === "dev") events.push([state, previous]);
    });
    const first = createMemoryTransportPair();
    const port = attach(m, first[0], { port: "dev", reconnect: true });
    expect(port.state).toBe("attached");
    first[1].close();
    expect(port.state).toBe("detached");
    const second = createMemoryTransportPair();
    attach(m, second[0], { port: "dev", reconnect: true });
    expect(port.state).toBe("attached");
    port.destroy();
    expect(port.state).toBe("destroyed");
    expect(events).toEqual([
      ["attached", undefined],
      ["detached", "attached"],
      ["attached", "detached"],
      ["destroyed", "attached"],
    ]);
    second[1].close();
  });

  test("a failing port:state listener is reported, the change still happens", () => {
    const m = new SessionManager();
    managers.push(m);
    const errors: Error[] = [];
    m.on("error", (e) => void errors.push(e));
    m.on("port:state", () => {
      throw new Error("listener bug");
    });
    const port = m.createPort("p", { sender: () => {} });
    expect(port.state).toBe("attached");
    expect(errors.map((e) => e.message)).toEqual(["listener bug"]);
  });

  test("lastSeen: the last message received, or the transport's own when later (heartbeats)", async () => {
    const m = new SessionManager();
    managers.push(m);
    const [a, b] = createMemoryTransportPair();
    const port = attach(m, a, { role: "client" });
    expect(port.lastSeen).toBeUndefined();
    m.on("message", () => {});
    const before = Date.now();
    b.send({ hello: 1 });
    await delay(1);
    const seen = port.lastSeen!;
    expect(seen).toBeGreaterThanOrEqual(before - 1);
    expect(seen).toBeLessThanOrEqual(Date.now() + 1);
    // A transport that tracks heartbeat answers tells a later time; an earlier one does not win.
    const later = seen + 60_000;
    Object.defineProperty(a, "lastSeen", { value: later, configurable: true });
    expect(port.lastSeen).toBe(later);
    expect(port.stats().lastSeen).toBe(later);
    Object.defineProperty(a, "lastSeen", { value: seen - 60_000, configurable: true });
    expect(port.lastSeen).toBe(seen);
  });

  test("bytes come from the transport and add up across reconnects", () => {
    const m = new SessionManager();
    managers.push(m);
    const counting = () => {
      const t = { bytesSent: 0, bytesReceived: 0, listeners: [] as ((r?: unknown) => void)[] };
      return Object.assign(t, {
        send(message: unknown) {
          t.bytesSent += JSON.stringify(message).length;
        },
        onMessage: () => () => {},
        onClose(l: (r?: unknown) => void) {
          t.listeners.push(l);
          return () => {};
        },
      });
    };
    const one = counting();
    const port = attach(m, one, { port: "dev", reconnect: true });
    port.createSession().post({ a: 1 });
    one.bytesReceived = 100;
    expect(port.stats()).toMatchObject({ bytesSent: one.bytesSent, bytesReceived: 100, messagesSent: 1 });
    for (const l of one.listeners) l();
    const two = counting();
    attach(m, two, { port: "dev", reconnect: true });
    two.bytesSent = 5;
    two.bytesReceived = 7;
    const s = port.stats();
    expect(s.bytesSent).toBe(one.bytesSent + 5);
    expect(s.bytesReceived).toBe(107);
    expect(m.stats().bytesReceived).toBe(107);
  });
});

describe("round-trip times", () => {
  test("quantiles against a known set of delays (1..200 ms, fake clock)", async () => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "performance", "Date"],
    });
    const { clientPort, server } = loopback({ sessionTimeout: 10_000 });
    managers.push(clientPort.manager, server);
    server.handle(async (m) => {
      await new Promise((resolve) => setTimeout(resolve, m.wait));
      return {};
    });
    const delays = Array.from({ length: 200 }, (_, i) => i + 1);
    // Shuffled, several at once: the order must not matter.
    const order = [...delays].sort((x, y) => ((x * 7919) % 200) - ((y * 7919) % 200));
    const all = Promise.all(order.map((wait) => clientPort.request({ wait })));
    await vi.advanceTimersByTimeAsync(250);
    await all;
    const rt = clientPort.stats().roundTrip;
    expect(rt.count).toBe(200);
    expect(rt.min).toBe(1);
    expect(rt.max).toBe(200);
    expect(rt.sum).toBe((200 * 201) / 2);
    expect(rt.mean).toBe(100.5);
    // Nearest rank: p50 = 100, p90 = 180, p99 = 198, each within its bucket (≤ 6.25%).
    for (const [q, exact] of [
      [rt.p50, 100],
      [rt.p90, 180],
      [rt.p99, 198],
    ] as const) {
      expect(Math.abs(q! - exact) / exact).toBeLessThanOrEqual(0.0625);
    }
    // The manager sums the same histogram.
    expect(clientPort.manager.stats().roundTrip).toEqual(rt);
  });

  test("a reply after retries counts from the first attempt (what the caller waited)", async () => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "performance", "Date"],
    });
    const [a, b] = createMemoryTransportPair();
    const client = new SessionManager();
    managers.push(client);
    const port = attach(client, a, { role: "client" });
    // A device that misses the first attempt and answers the second.
    b.onMessage((m) => {
      const request = m as Record<string, number>;
      if (request.$try === 2) b.send({ sid: request.sid, $re: request.$turn, ok: true });
    });
    const reply = port.request({ q: 1 }, { timeout: 100, retryCount: 1 });
    await vi.advanceTimersByTimeAsync(100);
    expect(await reply).toMatchObject({ ok: true });
    const stats = port.stats();
    expect(stats).toMatchObject({ requests: 1, retries: 1, messagesSent: 2, messagesReceived: 1 });
    expect(stats.roundTrip).toMatchObject({ count: 1, min: 100, max: 100 });
  });

  test("a port times at most 1,000 replies per tick of the clock; the others are counted, not timed", async () => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "performance", "Date"],
    });
    const { clientPort, server } = loopback();
    managers.push(clientPort.manager, server);
    server.handle(() => ({}));
    await Promise.all(Array.from({ length: 1500 }, (_, n) => clientPort.request({ n })));
    let stats = clientPort.stats();
    expect(stats.ended.replied).toBe(1500);
    expect(stats.roundTrip.count).toBe(1000);
    // Reading the statistics, like the next tick, gives the port a fresh budget.
    for (let n = 0; n < 10; n++) await clientPort.request({ n });
    stats = clientPort.stats();
    expect(stats.roundTrip.count).toBe(1010);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(Array.from({ length: 1200 }, (_, n) => clientPort.request({ n })));
    expect(clientPort.stats().roundTrip.count).toBe(2010);
  });

  test("buckets for exporters: cumulative at powers of two", async () => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "performance", "Date"],
    });
    const { clientPort, server } = loopback();
    managers.push(clientPort.manager, server);
    server.handle(async (m) => {
      await new Promise((resolve) => setTimeout(resolve, m.wait));
      return {};
    });
    const all = Promise.all([3, 4, 5, 100].map((wait) => clientPort.request({ wait })));
    await vi.advanceTimersByTimeAsync(150);
    await all;
    const { buckets } = clientPort.stats({ buckets: true }).roundTrip;
    const at = (le: number) => buckets!.find((b) => b.le === le)!.count;
    expect(at(2)).toBe(0);
    expect(at(4)).toBe(1); // 3 ms
    expect(at(8)).toBe(3); // 3, 4, 5
    expect(at(64)).toBe(3);
    expect(at(128)).toBe(4);
    expect(at(Infinity)).toBe(4);
    expect(clientPort.stats().roundTrip.buckets).toBeUndefined();
  });
});

describe("the histogram", () => {
  test("whole ms up to 15 are exact; above, a quantile is within 6.25%", () => {
    const h = new Histogram();
    expect(h.quantile(0.5)).toBeUndefined();
    for (let v = 0; v < 16; v++) h.add(v);
    expect(h.quantile(0.5)).toBe(7);
    expect(h.quantile(1)).toBe(15);
    const big = new Histogram();
    const values = [17, 33, 250, 999, 4321, 65_000, 1_000_000];
    for (const v of values) {
      const one = new Histogram();
      one.add(v);
      big.add(v);
      // Kept within [min, max]: a single value is read back exactly.
      expect(one.quantile(0.5)).toBe(v);
    }
    for (let i = 0; i < values.length; i++) {
      const q = big.quantile((i + 1) / values.length)!;
      expect(Math.abs(q - values[i]!) / values[i]!).toBeLessThanOrEqual(0.0625);
    }
  });

  test("merge adds counts; below() is exact at bucket edges; huge and bad values are kept in range", () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let v = 1; v <= 1000; v++) (v % 2 ? a : b).add(v);
    a.merge(b);
    expect(a.count).toBe(1000);
    expect(a.below(16)).toBe(15);
    expect(a.below(1024)).toBe(1000);
    expect(a.below(512)).toBe(511);
    const odd = new Histogram();
    odd.add(Number.NaN);
    odd.add(-5);
    odd.add(2 ** 40);
    expect(odd.count).toBe(3);
    expect(odd.min).toBe(0);
    expect(odd.quantile(1)).toBe(2 ** 40);
  });
});
