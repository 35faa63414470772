/**
 * What a connection may decode in one slice, at most one slice per turn of the event loop: 256
 * frames (a frame costs 1, plus 1 per KiB: `frameCost`), so that timers and the other connections
 * run between slices.
 */
export const SLICE_UNITS = 256;

/**
 * A busy connection's slice while a light one (see ReadBudget) is being served: one frame. A
 * request arriving on the light connection then waits behind at most one frame per busy connection.
 */
export const CONTENDED_UNITS = 1;

/** A light connection read within this many turns (of those that cut a slice) is "being served". */
const RECENT_TURNS = 1024;

/** What a frame of `bytes` costs of a slice: 1, plus 1 per KiB, so that big frames count for their parsing. */
export const frameCost = (bytes: number): number => 1 + (bytes >>> 10);

// The core is platform-neutral (no Node types): setImmediate where the platform has it.
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
const later: (fn: () => void) => void =
  typeof immediate === "function" ? (fn) => void immediate(fn) : (fn) => void setTimeout(fn, 0);

// Turns of the event loop, counted only when they matter: a slice that runs out schedules one
// callback that ends the turn. Until then the slices go on (a connection that never runs out costs
// nothing per turn), and after it every connection starts a new slice.
let turn = 0;
let counting = false;
const nextTurn = (): void => {
  turn++;
  counting = false;
};

// The last light connection read (its input fits in its slices: a request now and then,
// latency-bound), and in which turn.
let lastLight: ReadBudget | undefined;
let lightTurn = Number.NEGATIVE_INFINITY;

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
 * A connection is light when its input fits in its slices (a request now and then: its latency is
 * what matters), busy when input was left over for a continuation. A slice is SLICE_UNITS; while a
 * light connection is being served, a busy one's slice is CONTENDED_UNITS, so the light one's next
 * request waits behind one frame per busy connection, not 256. Busy connections among themselves
 * (two clients pipelining) and a connection read alone keep full slices and their throughput, and
 * a connection whose slices never run out costs one comparison per read.
 */
export class ReadBudget {
  private turn = -1;
  private units = 0;
  /**
   * A continuation ran since the last slice on new input: input was left over, this connection is
   * busy. A new connection is busy until its input fits in a slice.
   */
  private continued = true;
  /** The current slice began on new input with nothing left over before it. */
  private light = false;

  /**
   * New input arrived (or, `fresh`, a continuation goes on with input kept after the last slice
   * ran out). Returns whether the current slice has anything left; starts a new one when the turn
   * changed since this one began (and always for a continuation).
   */
  begin(fresh = false): boolean {
    if (fresh) {
      this.continued = true;
      this.light = false;
      return this.slice();
    }
    if (this.turn !== turn) {
      this.light = !this.continued;
      this.continued = false;
      if (this.light) this.served();
      return this.slice();
    }
    if (this.light) this.served();
    return this.units > 0;
  }

  /** Counts one frame of `cost` (see `frameCost`). False once the slice is spent. */
  spend(cost: number): boolean {
    this.units -= cost;
    if (this.units > 0) return true;
    if (!counting) {
      counting = true;
      later(nextTurn);
    }
    return false;
  }

  private served(): void {
    lastLight = this;
    lightTurn = turn;
  }

  private slice(): boolean {
    this.turn = turn;
    this.units = lastLight !== this && turn - lightTurn < RECENT_TURNS ? CONTENDED_UNITS : SLICE_UNITS;
    return true;
  }
}
