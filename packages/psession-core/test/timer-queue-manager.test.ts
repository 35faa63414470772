// Regression guard against an O(n^2) timer: tens of thousands of pending sends with distinct timeouts
// used to stall the event loop for seconds (one bucket per delay, every bucket scanned and spliced on
// every firing). The bound is generous on purpose: this is not a performance claim.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { attach, createMemoryTransportPair, SessionManager, SessionTimeoutError } from "psession";
import { expect, test } from "vitest";
import { delay } from "./helpers.js";

const N = 50_000; // answered sends
const STALL_BOUND_MS = 500;
// Expiring sends do real work each (a rejection and its error): a machine shared with other test
// files may take a while over 80k of them, so the bound is wider. The old queue took 2 to 4 s.
const EXPIRY_STALL_BOUND_MS = 1_000;
// Room for every live session on one side (a client allocates odd ids only).
const maxSessionCount = 200_000;

/** Runs `during` while measuring the longest event-loop stall, in ms. */
async function longestStall(during: () => Promise<void>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  try {
    await during();
    // The histogram learns of a stall only when its own timer runs again.
    await delay(30);
  } finally {
    h.disable();
  }
  return h.max / 1e6;
}

test("80,000 sends with distinct timeouts expire without stalling the event loop", async () => {
  const sends = 80_000;
  const [a, b] = createMemoryTransportPair();
  const client = new SessionManager({ sessionTimeout: 60_000, maxSessionCount });
  attach(client, a, { role: "client" });
  b.onMessage(() => {}); // a peer that never answers
  try {
    const results: Promise<unknown>[] = [];
    // Every timeout distinct, all expiring within two seconds: about 40 per millisecond, little
    // work per firing unless the queue itself is slow.
    for (let i = 0; i < sends; i++) {
      results.push(client.request({ i }, { timeout: 1_000 + i / 40 }).catch((e: unknown) => e));
    }
    await delay(0);
    let settled: unknown[] = [];
    const stall = await longestStall(async () => {
      settled = await Promise.all(results);
    });
    expect(settled.length).toBe(sends);
    expect(settled.every((e) => e instanceof SessionTimeoutError)).toBe(true);
    expect(stall, "longest event-loop stall, ms").toBeLessThan(EXPIRY_STALL_BOUND_MS);
  } finally {
    client.clear();
    a.close();
  }
});

test(`${N} answered sends with distinct timeouts leave nothing that stalls a later firing`, async () => {
  const [a, b] = createMemoryTransportPair();
  const client = new SessionManager({ maxSessionCount });
  const server = new SessionManager({ maxSessionCount });
  attach(client, a, { role: "client" });
  attach(server, b, { role: "server" });
  server.handle((m) => ({ ok: m.i }));
  try {
    const results: Promise<unknown>[] = [];
    // Whole-millisecond timeouts, one per send: one bucket each while pending.
    for (let i = 0; i < N; i++) results.push(client.request({ i }, { timeout: 1_000 + i }));
    const replies = (await Promise.all(results)) as { ok: number }[];
    expect(replies[N - 1]!.ok).toBe(N - 1);
    // The shared timer still fires at the earliest (stale) deadline, about 1 s after the sends.
    const stall = await longestStall(() => delay(1_300));
    expect(stall, "longest event-loop stall, ms").toBeLessThan(STALL_BOUND_MS);
    // And one send after that still times out.
    const late = await client.request({ i: -1 }, { timeout: 20 }).catch((e: unknown) => e);
    server.handle(() => new Promise(() => {}));
    const unanswered = await client.request({ i: -2 }, { timeout: 20 }).catch((e: unknown) => e);
    expect(late).toMatchObject({ ok: -1 });
    expect(unanswered).toBeInstanceOf(SessionTimeoutError);
  } finally {
    client.clear();
    server.clear();
    a.close();
  }
});

test("clear() while a session:end listener starts a new send: that send still times out", async () => {
  const [a, b] = createMemoryTransportPair();
  const client = new SessionManager({ sessionTimeout: 60_000 });
  attach(client, a, { role: "client" });
  b.onMessage(() => {}); // a peer that never answers
  try {
    const first = client.request({ q: 1 }).catch((e: unknown) => e);
    let restarted: Promise<unknown> | undefined;
    client.on("session:end", () => {
      restarted ??= client.request({ q: 2 }, { timeout: 30 }).catch((e: unknown) => e);
    });
    client.clear();
    expect(await first).toBeInstanceOf(Error);
    expect(restarted).toBeDefined();
    // No other send re-arms the timer: the queue itself must keep it.
    const started = Date.now();
    expect(await restarted).toBeInstanceOf(SessionTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    client.clear();
    a.close();
  }
});
