// Round-trip times of one port: a fixed-size log-bucket histogram (HDR style). Recording a sample
// is an index computation and one increment: no allocation, no sorting, whatever the rate.
//
// Buckets, in whole milliseconds: 0..15 ms each have their own bucket; from 16 ms on every
// power-of-two range [2^e, 2^(e+1)) is split into 8 equal sub-buckets, so a bucket is at most
// 1/8 of its lower bound wide and a quantile read at its middle is within 6.25% of the truth.
// Everything from 2^24 ms (4.6 hours) up shares the last bucket. Min, max and sum are exact.

const LINEAR = 16;
const SUB_BITS = 3;
const SUB = 1 << SUB_BITS;
const FIRST_OCTAVE = 4; // 2^4 = LINEAR
const TOP = 2 ** 24;
const SIZE = LINEAR + (24 - FIRST_OCTAVE) * SUB + 1;

/** Index of the bucket that holds `ms` (negative and NaN count as 0). */
function bucketOf(ms: number): number {
  const v = ms >= 0 ? Math.floor(ms) : 0;
  if (v < LINEAR) return v;
  if (v >= TOP) return SIZE - 1;
  const e = 31 - Math.clz32(v);
  return LINEAR + (e - FIRST_OCTAVE) * SUB + ((v >>> (e - SUB_BITS)) & (SUB - 1));
}

/** Lower bound (inclusive) and width of bucket `i`, in ms. */
function boundsOf(i: number): [number, number] {
  if (i < LINEAR) return [i, 1];
  if (i === SIZE - 1) return [TOP, Infinity];
  const e = FIRST_OCTAVE + ((i - LINEAR) >> SUB_BITS);
  const width = 2 ** (e - SUB_BITS);
  return [2 ** e + ((i - LINEAR) & (SUB - 1)) * width, width];
}

/** @internal */
export class Histogram {
  /** Allocated with the first sample: a port that never waited for a reply pays nothing. */
  private counts: Float64Array | undefined = undefined;
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  /** `ms` ≥ 0 (round trips are differences of one monotonic clock); anything else counts as 0. */
  add(ms: number): void {
    if (!(ms > 0)) ms = 0;
    const counts = this.counts ?? (this.counts = new Float64Array(SIZE));
    // Sub-16 ms replies (most of them on a LAN) skip the log computation.
    counts[ms < LINEAR ? ms | 0 : bucketOf(ms)]!++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** Adds every sample of `other` (summing ports, keeping a destroyed port's history). */
  merge(other: Histogram): void {
    const theirs = other.counts;
    if (theirs === undefined) return;
    const counts = (this.counts ??= new Float64Array(SIZE));
    for (let i = 0; i < SIZE; i++) counts[i]! += theirs[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * The `q` quantile (0..1) by nearest rank: the middle of the bucket holding that sample, kept
   * within [min, max]. Undefined without samples.
   */
  quantile(q: number): number | undefined {
    const counts = this.counts;
    if (counts === undefined || this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += counts[i]!;
      if (seen < rank) continue;
      const [low, width] = boundsOf(i);
      const middle = width === 1 ? low : width === Infinity ? this.max : low + width / 2;
      return Math.min(this.max, Math.max(this.min, middle));
    }
    return this.max;
  }

  /**
   * Cumulative counts for exporters: for each bound, the samples below it. Exact at powers of two
   * (and at every whole ms up to 16), which are bucket edges.
   */
  below(bound: number): number {
    const counts = this.counts;
    if (counts === undefined) return 0;
    let n = 0;
    for (let i = 0; i < SIZE; i++) {
      const [low, width] = boundsOf(i);
      if (low + (width === Infinity ? 0 : width) > bound) break;
      n += counts[i]!;
    }
    return n;
  }
}
