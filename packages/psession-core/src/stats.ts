// Statistics: plain counters each port keeps as traffic passes (incremented where the code already
// runs, never a second pass), the round-trip histogram, and the snapshots `port.stats()` /
// `manager.stats()` hand out. Reading them is the only place anything is summed or sorted.
import { SessionAbortError, SessionCancelError, SessionRemoteError, SessionTimeoutError } from "./errors.js";
import { Histogram } from "./histogram.js";

/** Where a port stands: bound to a transport, kept for a reconnect without one, or gone. */
export type PortState = "attached" | "detached" | "destroyed";

/**
 * How a session ended. `replied`: normally (its send was answered, or it answered the remote, or
 * `end()` with nothing pending). `timedOut`: its send got no reply after all attempts. `cancelled`:
 * `cancel()`, `end()` while a send was pending, `clear()`, a recycled sid, or the remote cancelled.
 * `aborted`: `abort()`, an AbortSignal, its port destroyed or its connection lost. `remoteError`:
 * the remote handler failed. `expired`: idle longer than `sessionMaxLife`. `failed`: the transport
 * could not send.
 */
export type SessionOutcome = "replied" | "timedOut" | "cancelled" | "aborted" | "remoteError" | "expired" | "failed";

const OUTCOMES: readonly SessionOutcome[] = [
  "replied",
  "timedOut",
  "cancelled",
  "aborted",
  "remoteError",
  "expired",
  "failed",
];
const REPLIED = 0;
const TIMED_OUT = 1;
const CANCELLED = 2;
const ABORTED = 3;
const REMOTE_ERROR = 4;
/** @internal Passed by the idle sweep to `Session._end`. */
export const EXPIRED = 5;
const FAILED = 6;

/** Round-trip times in milliseconds (whole ms; see the README for what is measured). */
export interface RoundTripStats {
  /** Replies timed: all of them below 1,000 a second per port, a sample above (see the README). */
  count: number;
  /** Undefined while `count` is 0, as are the quantiles. */
  mean: number | undefined;
  min: number | undefined;
  p50: number | undefined;
  p90: number | undefined;
  p99: number | undefined;
  max: number | undefined;
  /** Sum of every round trip (for rates: sum / count). */
  sum: number;
  /**
   * With `stats({ buckets: true })`: cumulative counts for exporters, `count` replies faster than
   * `le` ms, at 1, 2, 4, … 2^23 ms and Infinity (Prometheus `le` buckets, OpenTelemetry bounds).
   */
  buckets?: { le: number; count: number }[];
}

/** What `port.stats()` and `manager.stats()` report: counts since the port (or manager) was created. */
export interface SessionStats {
  /** Sessions opened on the port (either side), ended ones included. */
  created: number;
  /** Sessions alive now. */
  live: number;
  /** Ended sessions by how they ended (see SessionOutcome). */
  ended: Record<SessionOutcome, number>;
  /** Sends started (`send()`, `request()`): one per call, retries not counted. */
  requests: number;
  /** Sends that got no reply after all their attempts (`timeout()` included), session ended or not. */
  timeouts: number;
  /** Attempts past the first one of a send. */
  retries: number;
  /** Repeated turns (a retry, a channel duplicate) recognised and not run again. */
  duplicates: number;
  /** Late or stray answers dropped (a reply after its send timed out, a reply to an earlier turn). */
  late: number;
  /** Messages handed to the transport: requests and their retries, answers, progress, cancel notices. */
  messagesSent: number;
  /** Messages the port received (through `attach()` or `receive()`), with or without a session. */
  messagesReceived: number;
  /** Bytes, when the transport counts them (`transport.bytesSent`); undefined otherwise. */
  bytesSent: number | undefined;
  bytesReceived: number | undefined;
  roundTrip: RoundTripStats;
}

/** `port.stats()`: the port's counters, its name and state. */
export interface PortStats extends SessionStats {
  port: string;
  state: PortState;
  /** `port.lastSeen`: ms since the epoch, undefined if nothing came yet. */
  lastSeen: number | undefined;
}

/** `manager.stats()`: every port summed, destroyed ones included, and how many ports are in each state. */
export interface ManagerStats extends SessionStats {
  ports: Record<PortState, number>;
}

export interface StatsOptions {
  /** Include `roundTrip.buckets` (for exporters). */
  buckets?: boolean;
}

/**
 * Replies a port times per tick of the manager's clock (a second). Below that rate every reply is
 * timed; above it the rest are counted as replies but not timed, so a port answering a million
 * requests a second reads the clock a thousand times, not a million. A sample of that size keeps
 * the quantiles representative.
 */
/** @internal */
export const TIMED_PER_TICK = 1000;

/** What a transport may count for psession (read only when stats are asked for). */
interface ByteMeter {
  readonly bytesSent?: number;
  readonly bytesReceived?: number;
}

/**
 * One port's counters. Fields are plain numbers so an increment on the hot path is one add.
 * @internal
 */
export class Counters {
  /** Sessions made. Those that ended "replied" are not counted as they end: they are the rest. */
  created = 0;
  requests = 0;
  timeouts = 0;
  retries = 0;
  duplicates = 0;
  late = 0;
  sent = 0;
  received = 0;
  /** Replies this port may still time until the next tick (see TIMED_PER_TICK). */
  budget = TIMED_PER_TICK;
  /** Ended sessions, indexed like OUTCOMES; `ended[REPLIED]` is not kept up to date (see snapshot). */
  readonly ended = [0, 0, 0, 0, 0, 0, 0];
  readonly rtt = new Histogram();
  /** Byte counts of transports this port no longer uses; undefined until one could count. */
  bytesSent: number | undefined = undefined;
  bytesReceived: number | undefined = undefined;
  /** The current transport, when it counts bytes. */
  meter: ByteMeter | undefined = undefined;

  /** A session ended: count it under its outcome. `pending`: a send was still waiting. */
  end(reason: unknown, pending: boolean, outcome?: number): void {
    this.ended[outcome ?? outcomeOf(reason, pending)]!++;
  }

  /** A reply came for a send started at `startedAt` (ms, the timer queue's clock); `at`: now. */
  roundTrip(startedAt: number, at: number): void {
    this.rtt.add(at - startedAt);
  }

  /** Uses `meter` for bytes from now on; what the previous one counted is kept. */
  meterWith(meter: ByteMeter | undefined): void {
    this.retireMeter();
    if (meter !== undefined && ("bytesSent" in meter || "bytesReceived" in meter)) this.meter = meter;
  }

  /** The current transport is let go: keep what it counted. */
  retireMeter(meter: ByteMeter | undefined = this.meter): void {
    if (meter === undefined || meter !== this.meter) return;
    this.bytesSent = plus(this.bytesSent, meter.bytesSent);
    this.bytesReceived = plus(this.bytesReceived, meter.bytesReceived);
    this.meter = undefined;
  }

  /** Adds `other` into this (ports into a sum; a destroyed port's history into the manager's). */
  merge(other: Counters): void {
    this.created += other.created;
    this.requests += other.requests;
    this.timeouts += other.timeouts;
    this.retries += other.retries;
    this.duplicates += other.duplicates;
    this.late += other.late;
    this.sent += other.sent;
    this.received += other.received;
    for (let i = 0; i < this.ended.length; i++) this.ended[i]! += other.ended[i]!;
    this.rtt.merge(other.rtt);
    const meter = other.meter;
    this.bytesSent = plus(this.bytesSent, plus(other.bytesSent, meter?.bytesSent));
    this.bytesReceived = plus(this.bytesReceived, plus(other.bytesReceived, meter?.bytesReceived));
  }

  /** The snapshot; `live`: sessions alive now. */
  snapshot(live: number, options: StatsOptions | undefined): SessionStats {
    const ended = {} as Record<SessionOutcome, number>;
    let others = 0;
    for (let i = 0; i < OUTCOMES.length; i++) {
      if (i !== REPLIED) others += this.ended[i]!;
      ended[OUTCOMES[i]!] = this.ended[i]!;
    }
    ended.replied = this.created - live - others;
    const meter = this.meter;
    return {
      created: this.created,
      live,
      ended,
      requests: this.requests,
      timeouts: this.timeouts,
      retries: this.retries,
      duplicates: this.duplicates,
      late: this.late,
      messagesSent: this.sent,
      messagesReceived: this.received,
      bytesSent: plus(this.bytesSent, meter?.bytesSent),
      bytesReceived: plus(this.bytesReceived, meter?.bytesReceived),
      roundTrip: roundTripStats(this.rtt, options?.buckets === true),
    };
  }
}

/** Bounds of `roundTrip.buckets`, in ms: powers of two (bucket edges of the histogram), then Infinity. */
const BUCKET_BOUNDS: readonly number[] = [...Array.from({ length: 24 }, (_, i) => 2 ** i), Infinity];

function roundTripStats(h: Histogram, buckets: boolean): RoundTripStats {
  const some = h.count > 0;
  const stats: RoundTripStats = {
    count: h.count,
    mean: some ? h.sum / h.count : undefined,
    min: some ? h.min : undefined,
    p50: h.quantile(0.5),
    p90: h.quantile(0.9),
    p99: h.quantile(0.99),
    max: some ? h.max : undefined,
    sum: h.sum,
  };
  if (buckets) stats.buckets = BUCKET_BOUNDS.map((le) => ({ le, count: le === Infinity ? h.count : h.below(le) }));
  return stats;
}

function outcomeOf(reason: unknown, pending: boolean): number {
  if (reason === undefined) return pending ? CANCELLED : REPLIED;
  if (reason instanceof SessionTimeoutError) return TIMED_OUT;
  if (reason instanceof SessionRemoteError) return REMOTE_ERROR;
  if (reason instanceof SessionCancelError) return CANCELLED;
  if (reason instanceof SessionAbortError) return ABORTED;
  return FAILED;
}

/** A sum of byte counts where undefined means "not counted": undefined only when neither counted. */
function plus(a: number | undefined, b: number | undefined): number | undefined {
  if (typeof b !== "number") return a;
  return a === undefined ? b : a + b;
}
