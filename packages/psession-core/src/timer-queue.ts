import { now } from "./clock.js";

// One timer for every pending send of a manager. Nodes (sessions) sit in intrusive
// doubly-linked lists, one list ("bucket") per distinct delay, so each list is sorted by
// deadline for free: with equal delays, insert and remove are O(1) and allocate nothing.
// Non-empty buckets sit in a binary min-heap keyed by their head's deadline, so distinct
// delays cost O(log buckets) per send instead of a scan of every bucket per firing.
// The heap is updated lazily: removing a head (a reply came) leaves the bucket's key as a
// lower bound; firing pops it, runs what is due and pushes it back with its real head.
// Likewise the single platform timer is armed for the earliest key and is not cleared when
// a head is removed: it fires, finds nothing due and re-arms. That keeps
// setTimeout/clearTimeout off the per-request path.

export interface TimerNode {
  _deadline: number;
  _tprev: TimerNode | null;
  _tnext: TimerNode | null;
  _bucket: Bucket | null;
  _onTimer(): void;
}

class Bucket {
  // `delay` is whole milliseconds, at least 1 (see bucketFor).
  head: TimerNode | null = null;
  tail: TimerNode | null = null;
  /** Heap key: at most the head's deadline (lazy), valid while `queued`. */
  key = 0;
  /** In the heap, or being fired (pushed back by `fire` itself): never in the heap twice. */
  queued = false;
  constructor(readonly delay: number) {}
}

const MAX_DELAY = 0x7fffffff;

type PlatformTimer = ReturnType<typeof setTimeout> & { ref?(): unknown; unref?(): unknown };

export class TimerQueue {
  private readonly byDelay = new Map<number, Bucket>();
  private readonly heap: Bucket[] = [];
  private last: Bucket | null = null;
  private timer: PlatformTimer | undefined = undefined;
  private armedFor = Infinity;
  private firing = false;
  private count = 0;
  /** Non-empty buckets; the heap may hold up to about twice as many before `fire` compacts it. */
  private live = 0;

  get size(): number {
    return this.count;
  }

  /**
   * Whole monotonic ms (deadlines, round-trip times). Read afresh each time: a reading cached for
   * the turn of the event loop needed a setImmediate per turn to expire it, and that pending
   * immediate cost every sequential round trip about 2 µs of latency (docs/benchmarks.md), far
   * more than the 3 clock reads of a request (~70 ns each).
   */
  time(): number {
    return Math.floor(now());
  }

  add(node: TimerNode, delay: number): void {
    let bucket = this.last;
    if (bucket === null || bucket.delay !== delay) bucket = this.bucketFor(delay);
    const deadline = this.time() + bucket.delay;
    node._deadline = deadline;
    node._bucket = bucket;
    node._tnext = null;
    node._tprev = bucket.tail;
    if (bucket.tail) bucket.tail._tnext = node;
    else {
      bucket.head = node;
      this.live++;
    }
    bucket.tail = node;
    // An empty bucket may still be in the heap with an older, smaller key: a valid lower bound.
    if (!bucket.queued) this.push(bucket, deadline);
    // A pending timer keeps Node alive exactly while something is pending.
    if (++this.count === 1 && this.timer !== undefined) this.timer.ref?.();
    if (deadline < this.armedFor && !this.firing) this.arm(deadline);
  }

  remove(node: TimerNode): void {
    const bucket = node._bucket;
    if (bucket === null) return;
    const { _tprev: prev, _tnext: next } = node;
    if (prev) prev._tnext = next;
    else if ((bucket.head = next) === null) this.live--;
    if (next) next._tprev = prev;
    else bucket.tail = prev;
    node._tprev = node._tnext = null;
    node._bucket = null;
    if (--this.count === 0 && this.timer !== undefined) this.timer.unref?.();
  }

  /**
   * Stops the platform timer and drops the empty buckets when nothing is queued (used by tests
   * and `SessionManager.clear()`). Queued nodes are never lost: with some left, the timer stays
   * armed for them, and a later `add()` arms it again.
   */
  stop(): void {
    if (this.count > 0) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    for (const bucket of this.heap) bucket.queued = false;
    this.heap.length = 0;
    this.byDelay.clear();
    this.last = null;
    this.live = 0;
  }

  private bucketFor(delay: number): Bucket {
    // Whole milliseconds, at least 1 (also for NaN): fractional delays share a bucket, and a
    // node added while firing is never due in the same firing, so a handler that re-adds
    // itself cannot loop.
    const whole = Math.ceil(delay);
    // biome-ignore lint/complexity/useMathMinMax: Math.max(1, NaN) is NaN; this gives 1.
    const d = whole >= 1 ? whole : 1;
    let b = this.byDelay.get(d);
    if (b === undefined) {
      b = new Bucket(d);
      this.byDelay.set(d, b);
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
    this.firing = true;
    // What handlers add while this fires gets a deadline of at least floor(t) + 1 > t: a node
    // that re-adds itself is never due in the same firing, so it cannot loop here.
    const t = now();
    const heap = this.heap;
    try {
      while (heap.length > 0 && heap[0]!.key <= t) {
        const bucket = this.pop();
        // Run this bucket's due nodes up to the next bucket's key, so nodes fire in deadline order.
        const limit = heap.length > 0 && heap[0]!.key < t ? heap[0]!.key : t;
        let node = bucket.head;
        while (node !== null && node._deadline <= limit) {
          this.remove(node);
          try {
            node._onTimer();
          } catch {
            // _onTimer reports its own failures; one bad node must not stall the others.
          }
          node = bucket.head;
        }
        if (node !== null) this.push(bucket, node._deadline);
        else this.drop(bucket);
      }
    } finally {
      this.firing = false;
      // Replies leave empty buckets behind with stale keys, each of which would cost a wake-up:
      // drop them once they outnumber the live ones (amortised O(1) per add).
      if (heap.length > 2 * this.live + 16 || (this.live === 0 && heap.length > 0)) this.compact();
      if (heap.length > 0) this.arm(heap[0]!.key);
    }
  };

  /** Keeps only non-empty buckets, keyed by their real head, and rebuilds the heap in O(n). */
  private compact(): void {
    const heap = this.heap;
    let n = 0;
    for (let i = 0; i < heap.length; i++) {
      const bucket = heap[i]!;
      if (bucket.head !== null) {
        bucket.key = bucket.head._deadline;
        heap[n++] = bucket;
      } else {
        this.drop(bucket);
      }
    }
    heap.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, heap[i]!);
  }

  /** An empty bucket leaves the map, except the one `add` reaches without a lookup. */
  private drop(bucket: Bucket): void {
    bucket.queued = false;
    if (bucket !== this.last && this.byDelay.get(bucket.delay) === bucket) this.byDelay.delete(bucket.delay);
  }

  private push(bucket: Bucket, key: number): void {
    bucket.key = key;
    bucket.queued = true;
    const heap = this.heap;
    let i = heap.length;
    heap.push(bucket);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p.key <= key) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = bucket;
  }

  /** Removes the top bucket; it stays `queued` (owned by `fire`) until pushed back or dropped. */
  private pop(): Bucket {
    const heap = this.heap;
    const top = heap[0]!;
    const end = heap.pop()!;
    if (heap.length > 0) this.siftDown(0, end);
    return top;
  }

  /** Places `bucket` at slot `i` or below, moving smaller children up. */
  private siftDown(i: number, bucket: Bucket): void {
    const heap = this.heap;
    const n = heap.length;
    const key = bucket.key;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]!.key < heap[child]!.key) child++;
      const c = heap[child]!;
      if (c.key >= key) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = bucket;
  }
}
