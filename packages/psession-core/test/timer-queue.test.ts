// The shared timer queue on real timers: deadline order across delays, FIFO within one,
// removal before firing, handlers that add and remove nodes (and stop the queue) while it fires,
// the 2^31-1 ms clamp, and a guard against O(n^2) work with many distinct delays.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterEach, expect, test } from "vitest";
import { type TimerNode, TimerQueue } from "../src/timer-queue.js";
import { delay } from "./helpers.js";

class Node implements TimerNode {
  _deadline = 0;
  _tprev: TimerNode | null = null;
  _tnext: TimerNode | null = null;
  _bucket: TimerNode["_bucket"] = null;
  firedAt = -1;
  constructor(
    readonly name: string,
    private readonly log: Node[],
    private readonly then?: (node: Node) => void,
  ) {}
  _onTimer(): void {
    this.firedAt = performance.now();
    this.log.push(this);
    this.then?.(this);
  }
}

const queues: TimerQueue[] = [];
function makeQueue(): TimerQueue {
  const q = new TimerQueue();
  queues.push(q);
  return q;
}

afterEach(() => {
  // Every test leaves its queue empty; stop() then clears the platform timer.
  for (const q of queues.splice(0)) {
    expect(q.size).toBe(0);
    q.stop();
  }
});

async function drained(q: TimerQueue, withinMs = 5_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (q.size > 0) {
    if (Date.now() > until) throw new Error(`${q.size} nodes still queued after ${withinMs} ms`);
    await delay(5);
  }
}

/** Blocks the event loop, so that everything added before is due in one firing. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test("nodes fire in deadline order across distinct delays, FIFO within one delay", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  // A fixed shuffle of delays with repeats, all added in one burst (one clock reading).
  const delays = [30, 5, 17, 5, 1, 30, 12, 2, 17, 9, 1, 25, 5, 3, 12, 40, 2, 9];
  const nodes = delays.map((d, i) => new Node(`${d}ms#${i}`, log));
  for (const [i, node] of nodes.entries()) q.add(node, delays[i]!);
  expect(q.size).toBe(nodes.length);
  block(60); // all due in one firing: order must still follow the deadlines
  await drained(q);
  const expected = nodes
    .map((node, i) => ({ node, d: delays[i]!, i }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.node.name);
  // Equal delays keep their insertion order; distinct ones fire by deadline.
  expect(log.map((n) => n.name)).toEqual(expected);
});

test("a random mix of delays and removals: exactly the kept nodes fire, each after its deadline, in order", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const kept = new Set<Node>();
  const addedAt = new Map<Node, { at: number; ms: number }>();
  const all: Node[] = [];
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 100; i++) {
      const node = new Node(`r${round}n${i}`, log);
      const ms = 1 + rand(60);
      addedAt.set(node, { at: performance.now(), ms });
      q.add(node, ms);
      kept.add(node);
      all.push(node);
    }
    // Remove a random third of what is still queued, heads and middles alike.
    for (const node of all) {
      if (node._bucket !== null && rand(3) === 0) {
        q.remove(node);
        kept.delete(node);
        expect(node._bucket).toBeNull();
      }
    }
    await delay(rand(4));
  }
  await drained(q);
  expect(new Set(log)).toEqual(kept);
  expect(log.length).toBe(kept.size);
  for (let i = 1; i < log.length; i++) expect(log[i]!._deadline).toBeGreaterThanOrEqual(log[i - 1]!._deadline);
  for (const node of log) {
    const { at, ms } = addedAt.get(node)!;
    expect(node.firedAt).toBeGreaterThanOrEqual(node._deadline);
    // One clock reading serves a burst of 100 adds, so the deadline may be a little early.
    expect(node._deadline).toBeGreaterThanOrEqual(Math.floor(at) + ms - 50);
  }
});

test("a removed node never fires; removing twice or removing an unqueued node is harmless", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  const a = new Node("a", log);
  const b = new Node("b", log);
  const c = new Node("c", log);
  q.add(a, 10);
  q.add(b, 10);
  q.add(c, 20);
  q.remove(a); // a head
  q.remove(c); // the only node of its delay
  q.remove(c);
  q.remove(new Node("never added", log));
  expect(q.size).toBe(1);
  await drained(q);
  await delay(30);
  expect(log.map((n) => n.name)).toEqual(["b"]);
});

test("a handler may add and remove nodes while the queue fires", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  const victimSame = new Node("victim same delay", log);
  const victimOther = new Node("victim other delay", log);
  const late = new Node("added by a handler", log);
  let again = 0;
  const self = new Node("re-adds itself", log, (node) => {
    if (again++ < 3) q.add(node, 0); // delay 0 is 1 ms: never due in the firing that added it
  });
  const first = new Node("first", log, () => {
    q.remove(victimSame);
    q.remove(victimOther);
    q.add(late, 50);
  });
  q.add(first, 10);
  q.add(victimSame, 10);
  q.add(self, 10);
  q.add(victimOther, 11);
  block(30); // all four due in the same firing
  await drained(q);
  expect(log.map((n) => n.name)).toEqual([
    "first",
    "re-adds itself",
    "re-adds itself",
    "re-adds itself",
    "re-adds itself",
    "added by a handler",
  ]);
});

test("a handler that throws does not stop the others", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  q.add(
    new Node("throws", log, () => {
      throw new Error("boom");
    }),
    5,
  );
  q.add(new Node("after", log), 5);
  await drained(q);
  expect(log.map((n) => n.name)).toEqual(["throws", "after"]);
});

test("stop() loses nothing (clear() after a session:end listener sent): queued nodes still fire, and add() after stop() re-arms", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  q.add(new Node("queued before stop", log), 10);
  q.stop();
  await drained(q);
  q.stop();
  q.add(new Node("added after stop", log), 5);
  await drained(q);
  expect(log.map((n) => n.name)).toEqual(["queued before stop", "added after stop"]);
});

test("stop() from inside a handler keeps what the handler adds", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  const restarted = new Node("added after stop in a handler", log);
  const restartedOtherDelay = new Node("other delay", log);
  q.add(
    new Node("stops the queue", log, () => {
      q.stop();
      q.add(restarted, 20);
      q.add(restartedOtherDelay, 7);
    }),
    20,
  );
  await drained(q);
  expect(log.map((n) => n.name)).toEqual(["stops the queue", "other delay", "added after stop in a handler"]);
});

test("delays past 2^31-1 ms wait instead of firing at once", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  const far = new Node("far", log);
  const farther = new Node("farther", log);
  q.add(far, 2 ** 31);
  q.add(farther, 2 ** 40);
  q.add(new Node("near", log), 5);
  await delay(40);
  expect(log.map((n) => n.name)).toEqual(["near"]);
  q.remove(far);
  q.remove(farther);
});

test("fractional, zero, negative and NaN delays fire after at least 1 ms", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  for (const d of [0.25, 0, -5, Number.NaN, 1.5]) q.add(new Node(String(d), log), d);
  expect(log).toEqual([]); // never synchronously
  await drained(q);
  expect(log.map((n) => n.name).sort()).toEqual(["-5", "0", "0.25", "1.5", "NaN"]);
});

test("50,000 nodes with distinct delays fire without stalling the event loop (no per-node work but the queue's)", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  const n = 50_000;
  // Distinct delays within 200 ms: the old queue made one bucket each and scanned and spliced
  // them all on every firing (seconds of stall); the bound is generous, not a performance claim.
  for (let i = 0; i < n; i++) q.add(new Node("", log), 20 + (i * 200) / n);
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await drained(q);
  await delay(20); // the histogram sees a stall only when its own timer runs again
  h.disable();
  expect(log.length).toBe(n);
  expect(h.max / 1e6, "longest event-loop stall, ms").toBeLessThan(250);
});

test("a node re-added while the queue fires waits for the next firing, even when the clock was read earlier in the turn", async () => {
  const q = makeQueue();
  const log: Node[] = [];
  let afterFirstFiring = -1;
  const node = new Node("again", log, () => {
    if (log.length === 1) queueMicrotask(() => (afterFirstFiring = log.length));
    if (log.length < 5) q.add(node, 1);
  });
  // In the same turn, before the queue fires: a clock reading that goes stale (busy for 20 ms).
  setTimeout(() => {
    q.time();
    const until = performance.now() + 20;
    while (performance.now() < until) {}
  }, 0);
  q.add(node, 1);
  await delay(100);
  // The first firing ran the node once; its re-adds ran in later firings.
  expect(afterFirstFiring).toBe(1);
  expect(log).toHaveLength(5);
});
