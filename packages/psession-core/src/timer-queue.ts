import { now } from "./clock.js";

// One timer for every pending send of a manager. Nodes (sessions) sit in intrusive
// doubly-linked lists, one list per distinct delay, so each list is sorted by
// deadline for free: insert and remove are O(1) and allocate nothing.
// The single platform timer is armed for the earliest head and is not cleared when
// a head is removed (a reply came): it fires, finds nothing due and re-arms. That keeps
// setTimeout/clearTimeout off the per-request path.

export interface TimerNode {
  _deadline: number;
  _tprev: TimerNode | null;
  _tnext: TimerNode | null;
  _bucket: Bucket | null;
  _onTimer(): void;
}

class Bucket {
  head: TimerNode | null = null;
  tail: TimerNode | null = null;
  constructor(readonly delay: number) {}
}

const MAX_DELAY = 0x7fffffff;

type PlatformTimer = ReturnType<typeof setTimeout> & { ref?(): unknown; unref?(): unknown };

export class TimerQueue {
  private readonly buckets: Bucket[] = [];
  private readonly byDelay = new Map<number, Bucket>();
  private last: Bucket | null = null;
  private timer: PlatformTimer | undefined = undefined;
  private armedFor = Infinity;
  private count = 0;
  // The clock is read once per synchronous burst: 256 sends in one loop share one reading,
  // which a microtask then invalidates.
  private clock = -1;
  private readonly invalidate = (): void => {
    this.clock = -1;
  };

  get size(): number {
    return this.count;
  }

  add(node: TimerNode, delay: number): void {
    let bucket = this.last;
    if (bucket === null || bucket.delay !== delay) bucket = this.bucketFor(delay);
    let t = this.clock;
    if (t < 0) {
      t = this.clock = Math.floor(now());
      queueMicrotask(this.invalidate);
    }
    const deadline = t + delay;
    node._deadline = deadline;
    node._bucket = bucket;
    node._tnext = null;
    node._tprev = bucket.tail;
    if (bucket.tail) bucket.tail._tnext = node;
    else bucket.head = node;
    bucket.tail = node;
    // A pending timer keeps Node alive exactly while something is pending.
    if (++this.count === 1 && this.timer !== undefined) this.timer.ref?.();
    if (deadline < this.armedFor) this.arm(deadline);
  }

  remove(node: TimerNode): void {
    const bucket = node._bucket;
    if (bucket === null) return;
    const { _tprev: prev, _tnext: next } = node;
    if (prev) prev._tnext = next;
    else bucket.head = next;
    if (next) next._tprev = prev;
    else bucket.tail = prev;
    node._tprev = node._tnext = null;
    node._bucket = null;
    if (--this.count === 0 && this.timer !== undefined) this.timer.unref?.();
  }

  /** Stops the platform timer (used by tests and `SessionManager.clear()` when idle). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private bucketFor(delay: number): Bucket {
    let b = this.byDelay.get(delay);
    if (b === undefined) {
      b = new Bucket(delay);
      this.byDelay.set(delay, b);
      this.buckets.push(b);
    }
    return (this.last = b);
  }

  private arm(deadline: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = deadline;
    // setTimeout fires at once past 2^31-1 ms: wait at most that long, then look again.
    const t = setTimeout(this.fire, Math.min(MAX_DELAY, Math.max(0, Math.ceil(deadline - now())))) as PlatformTimer;
    if (this.count === 0) t.unref?.();
    this.timer = t;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const t = now();
    let next = Infinity;
    // Callers with ad-hoc delays create many buckets: drop the empty ones as we go.
    const prune = this.buckets.length > 8;
    for (let i = 0; i < this.buckets.length; i++) {
      const bucket = this.buckets[i]!;
      let node = bucket.head;
      while (node !== null && node._deadline <= t) {
        this.remove(node);
        try {
          node._onTimer();
        } catch {
          // _onTimer reports its own failures; one bad node must not stall the others.
        }
        node = bucket.head;
      }
      if (node !== null && node._deadline < next) next = node._deadline;
      else if (node === null && prune && bucket !== this.last) {
        this.byDelay.delete(bucket.delay);
        this.buckets.splice(i--, 1);
      }
    }
    // Handlers may have added nodes (retries) and armed the timer already.
    if (next < this.armedFor) this.arm(next);
  };
}
