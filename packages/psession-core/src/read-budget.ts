/**
 * What a connection may decode in one slice, one slice per turn of the event loop: 64 frames (a
 * frame costs 1, plus 1 per KiB: `frameCost`), so that timers and the other connections run
 * between slices.
 */
export const SLICE_UNITS = 64;

/**
 * A busy connection's slice while a light one (see ReadBudget) is being served: one frame. A
 * request arriving on the light connection then waits behind at most one frame per busy connection.
 */
export const CONTENDED_UNITS = 1;

/** A light connection read within this many ms is "being served". */
const RECENT_MS = 50;

/** What a frame of `bytes` costs of a slice: 1, plus 1 per KiB, so that big frames count for their parsing. */
export const frameCost = (bytes: number): number => 1 + (bytes >>> 10);

const now: () => number =
  typeof performance === "object" && typeof performance.now === "function" ? () => performance.now() : Date.now;
const later: (fn: () => void) => void =
  typeof setImmediate === "function" ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

// Event-loop turns, counted by one shared callback per turn, only while connections are read.
let turn = 0;
let counting = false;
const nextTurn = (): void => {
  turn++;
  counting = false;
};

// The last light connection read (its input fits in its slices: a request now and then,
// latency-bound), and when.
let light: ReadBudget | undefined;
let lightAt = -Infinity;

/**
 * Fair service for servers (one per connection): bounds the work one connection's input takes in
 * one turn of the event loop, so that a connection flooding the server (garbage or valid requests)
 * cannot starve the others.
 *
 * The transport calls `begin()` when input arrives (false: this turn's slice is spent) and
 * `spend(cost)` after each frame it decoded, blank ones too (false: the slice is spent now). With
 * input left over, it keeps that input, pauses its channel (the peer is pushed back on), and goes
 * on with `begin(true)` in a `setImmediate`, after the other connections' I/O.
 *
 * A connection is light when its input fits in its slices (a request now and then: its latency
 * is what matters), busy when input was left over for a continuation. A slice is SLICE_UNITS; while a light connection is
 * being served, a busy one's slice is CONTENDED_UNITS, so the light one's next request waits
 * behind one frame per busy connection, not 64. Busy connections among themselves (two clients
 * pipelining) and a connection read alone keep full slices and their throughput.
 */
export class ReadBudget {
  private turn = -1;
  private units = 0;
  /**
   * A continuation ran since the last new input: input was left over, this connection is busy.
   * A new connection is busy until one slice of its input fit.
   */
  private continued = true;

  /**
   * Starts a slice when this is a new turn (or `fresh`: a continuation scheduled after the last
   * slice ran out). Returns whether the current slice has anything left.
   */
  begin(fresh = false): boolean {
    if (!counting) {
      counting = true;
      later(nextTurn);
    }
    if (!fresh && this.turn === turn) return this.units > 0;
    this.turn = turn;
    const t = now();
    if (fresh) this.continued = true;
    else {
      // New input, and everything before it was decoded in its own slice: a light connection.
      if (!this.continued) {
        light = this;
        lightAt = t;
      }
      this.continued = false;
    }
    this.units = light !== this && t - lightAt < RECENT_MS ? CONTENDED_UNITS : SLICE_UNITS;
    return true;
  }

  /** Counts one frame of `cost` (see `frameCost`). False once the slice is spent. */
  spend(cost: number): boolean {
    this.units -= cost;
    return this.units > 0;
  }
}
