// Listings (issue 12): manager.sessions() and manager.listPorts() filter and page plain snapshots,
// here over 10,000 sessions on two ports, on a fake clock so that idle times are exact.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { type Message, type Port, SessionInvalidError, SessionManager, type SessionSnapshot } from "psession";

let manager: SessionManager;
beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "performance", "Date"],
  });
});
afterEach(() => {
  manager.clear();
  vi.useRealTimers();
});

describe("manager.sessions() over 10,000 sessions", () => {
  // Port "a" (role client: odd ids): 6,000 sessions of our own, every third one with a send
  // pending. Port "b" (role server): 4,000 sessions the remote opened, each waiting in its handler.
  let a: Port;
  let b: Port;
  const sentToA: Message[] = [];
  let start = 0;

  beforeEach(async () => {
    start = Date.now();
    sentToA.length = 0;
    manager = new SessionManager({ sessionTimeout: 60_000, sessionMaxLife: 3_600_000 });
    manager.on("error", () => {});
    a = manager.createPort("a", { role: "client", sender: (m) => void sentToA.push(m) });
    b = manager.createPort("b", { role: "server", sender: () => {}, maxResponders: 5000 });
    manager.handle((_m, session) => new Promise((resolve) => session.signal.addEventListener("abort", resolve)));
    for (let i = 0; i < 6000; i++) {
      const s = a.createSession();
      if (i % 3 === 0) s.send({ i }).catch(() => {});
    }
    for (let i = 0; i < 4000; i++) manager.receive({ sid: 2 * i + 1, $turn: 1, job: i }, b);
    // 5 s later, 1,000 of a's idle sessions hear from the remote; 3 s after that, list.
    await vi.advanceTimersByTimeAsync(5000);
    let touched = 0;
    for (const s of a.sessions.values()) {
      if (!s.pending && touched < 1000) {
        s.next({ sid: s.id, note: "still here" });
        touched++;
      }
    }
    await vi.advanceTimersByTimeAsync(3000);
  });

  test("totals and filters", () => {
    expect(manager.size).toBe(10_000);
    expect(manager.sessions({ limit: 0 }).total).toBe(10_000);
    expect(manager.sessions({ port: "a", limit: 0 }).total).toBe(6000);
    expect(manager.sessions({ port: b, limit: 0 }).total).toBe(4000);
    expect(manager.sessions({ port: "nope" })).toEqual({ total: 0, items: [] });
    expect(manager.sessions({ remote: true, limit: 0 }).total).toBe(4000);
    expect(manager.sessions({ remote: false, pending: true, limit: 0 }).total).toBe(2000);
    expect(manager.sessions({ pending: false, port: "a", limit: 0 }).total).toBe(4000);
    // Idle for 6 s: a's idle sessions nobody heard from since they were made (8 s ago), and b's,
    // whose handlers work without any message since theirs 8 s ago; not the 1,000 touched 3 s ago.
    expect(manager.sessions({ port: "a", idleFor: 6000, limit: 0 }).total).toBe(3000);
    expect(manager.sessions({ idleFor: 6000, limit: 0 }).total).toBe(7000);
    expect(manager.sessions({ idleFor: 2000, limit: 0 }).total).toBe(8000);
    expect(manager.sessions({ idleFor: 9000, limit: 0 }).total).toBe(0);
  });

  test("snapshots: plain objects with state, turns and times", () => {
    const first = manager.sessions({ port: "a", limit: 2 }).items;
    expect(first[0]).toEqual({
      id: 1,
      port: "a",
      remote: false,
      state: "waiting",
      turns: 1,
      createdAt: start,
      lastActivity: start,
    } satisfies SessionSnapshot);
    expect(first[1]).toMatchObject({ id: 3, state: "idle", turns: 0, createdAt: start, lastActivity: start + 5000 });
    const job = manager.sessions({ port: "b", limit: 1 }).items[0]!;
    expect(job).toEqual({
      id: 1,
      port: "b",
      remote: true,
      state: "handling",
      turns: 1,
      createdAt: start,
      lastActivity: start,
    });
    expect(JSON.parse(JSON.stringify(job))).toEqual(job);
  });

  test("pages cover every match once, in a stable order", () => {
    const seen: string[] = [];
    for (let offset = 0; offset < 10_000; offset += 1000) {
      const page = manager.sessions({ limit: 1000, offset });
      expect(page.total).toBe(10_000);
      expect(page.items).toHaveLength(1000);
      for (const s of page.items) seen.push(`${s.port}:${s.id}`);
    }
    expect(new Set(seen).size).toBe(10_000);
    expect(seen.slice(0, 2)).toEqual(["a:1", "a:3"]);
    expect(seen.slice(5999, 6001)).toEqual(["a:11999", "b:1"]);
    expect(manager.sessions({ offset: 9990 }).items).toHaveLength(10);
    expect(manager.sessions({ offset: 20_000 }).items).toEqual([]);
    // Default page size.
    expect(manager.sessions().items).toHaveLength(100);
    expect(manager.sessions({ limit: Infinity }).items).toHaveLength(10_000);
    // A filtered page: the pending ones of "a", second page of 500.
    const pending = manager.sessions({ port: "a", pending: true, limit: 500, offset: 500 }).items;
    expect(pending.map((s) => s.id).slice(0, 2)).toEqual([3001, 3007]);
    expect(pending.every((s) => s.state === "waiting")).toBe(true);
  });

  test("bad paging values are refused with a SessionInvalidError", () => {
    for (const filter of [{ limit: -1 }, { offset: -5 }, { offset: Number.NaN }, { idleFor: -1 }]) {
      expect(() => manager.sessions(filter)).toThrow(SessionInvalidError);
    }
  });
});

describe("manager.listPorts()", () => {
  test("state and silentFor filters, pages, snapshots", async () => {
    const start = Date.now();
    manager = new SessionManager();
    manager.on("message", () => {});
    const talkers: Port[] = [];
    for (let i = 0; i < 30; i++) talkers.push(manager.createPort(`dev-${i}`, { sender: () => {} }));
    const parked = manager.createPort("parked");
    await vi.advanceTimersByTimeAsync(4000);
    // Ten devices speak at 4 s; the others have been silent since they were made.
    for (let i = 0; i < 10; i++) manager.receive({ temperature: 20 + i }, talkers[i]!);
    await vi.advanceTimersByTimeAsync(3000);

    expect(manager.listPorts({ limit: 0 }).total).toBe(32); // "default" too
    expect(manager.listPorts({ state: "detached" }).items.map((p) => p.name)).toEqual(["default", "parked"]);
    expect(manager.listPorts({ state: ["attached"], limit: 0 }).total).toBe(30);
    expect(manager.listPorts({ state: "destroyed" }).total).toBe(0);
    const silent = manager.listPorts({ state: "attached", silentFor: 5000, limit: 100 });
    expect(silent.items.map((p) => p.name)).toEqual(talkers.slice(10).map((p) => p.name));
    expect(manager.listPorts({ silentFor: 1500, state: "attached", limit: 0 }).total).toBe(30);
    const page = manager.listPorts({ state: "attached", limit: 4, offset: 8 });
    expect(page.items.map((p) => p.name)).toEqual(["dev-8", "dev-9", "dev-10", "dev-11"]);
    expect(page.items[0]).toEqual({
      name: "dev-8",
      state: "attached",
      role: undefined,
      sessions: 0,
      pending: 0,
      // Stamped by the first tick after the message (at 5 s): never earlier than the truth.
      lastSeen: start + 5000,
    });
    expect(page.items[2]!.lastSeen).toBeUndefined();
    parked.destroy();
    expect(manager.listPorts({ limit: 0 }).total).toBe(31);
  });
});
