// OpenTelemetry metrics for psession. Every instrument is read from psession's own statistics
// (`manager.stats()` / `port.stats()`) when the SDK collects, in one batch callback: nothing is
// counted twice and nothing is added to the request path.
import type { Attributes, BatchObservableResult, Histogram, Meter, Observable } from "@opentelemetry/api";
import type { ManagerStats, PortState, SessionManager, SessionOutcome, SessionStats } from "psession";

export interface MetricsOptions {
  /** Added to every measurement, e.g. `{ "psession.manager": "gateway" }` to tell managers apart. */
  attributes?: Attributes;
  /**
   * One series per port (attribute `psession.port`) instead of the manager's totals. Off by
   * default: a server's ports are one per connection, so their names are unbounded.
   */
  perPort?: boolean;
  /**
   * The round-trip histogram (`rpc.client.call.duration`). OpenTelemetry has no asynchronous
   * histogram, so on each collection the replies measured since the last one are recorded from
   * psession's buckets: one `record()` per reply, at collection time, never on the request path.
   * `false` leaves it out. Default true.
   */
  roundTrip?: boolean;
}

/** Every instrument this package creates, by name (OpenTelemetry semantic conventions where one fits). */
export const METRICS = {
  sessionsCreated: "psession.session.created",
  sessionsEnded: "psession.session.ended",
  sessionsActive: "psession.session.active",
  requests: "psession.request.count",
  timeouts: "psession.request.timeouts",
  retries: "psession.request.retries",
  duplicates: "psession.duplicates",
  late: "psession.late_replies",
  messagesSent: "psession.messages.sent",
  messagesReceived: "psession.messages.received",
  bytesSent: "psession.bytes.sent",
  bytesReceived: "psession.bytes.received",
  ports: "psession.ports",
  /** Semantic conventions: duration of an outgoing call, in seconds. */
  roundTrip: "rpc.client.call.duration",
} as const;

const OUTCOMES: readonly SessionOutcome[] = [
  "replied",
  "timedOut",
  "cancelled",
  "aborted",
  "remoteError",
  "expired",
  "failed",
];
const STATES: readonly PortState[] = ["attached", "detached", "destroyed"];
/** Bucket bounds in ms: psession's histogram edges (exact), 1 ms to 2^23 ms. */
const BOUNDS_MS = Array.from({ length: 24 }, (_, i) => 2 ** i);

type Counter = keyof Omit<SessionStats, "ended" | "roundTrip" | "live" | "bytesSent" | "bytesReceived">;

/**
 * Reports `manager`'s statistics through `meter`. Returns a function that stops reporting.
 *
 * ```ts
 * const stop = observeManager(manager, metrics.getMeter("psession"));
 * ```
 */
export function observeManager(manager: SessionManager, meter: Meter, options: MetricsOptions = {}): () => void {
  const base = options.attributes ?? {};
  const counter = (name: string, description: string, unit: string) =>
    meter.createObservableCounter(name, { description, unit });
  const created = counter(METRICS.sessionsCreated, "Sessions opened (by either side)", "{session}");
  const ended = counter(METRICS.sessionsEnded, "Sessions ended, by psession.session.outcome", "{session}");
  const active = meter.createObservableUpDownCounter(METRICS.sessionsActive, {
    description: "Live sessions",
    unit: "{session}",
  });
  const counters: [Observable, Counter][] = [
    [counter(METRICS.requests, "Sends started (retries not counted)", "{request}"), "requests"],
    [counter(METRICS.timeouts, "Sends that got no reply after all attempts", "{request}"), "timeouts"],
    [counter(METRICS.retries, "Attempts past the first of a send", "{attempt}"), "retries"],
    [counter(METRICS.duplicates, "Repeated turns recognised and not run again", "{message}"), "duplicates"],
    [counter(METRICS.late, "Late or stray answers dropped", "{message}"), "late"],
    [counter(METRICS.messagesSent, "Messages handed to the transport", "{message}"), "messagesSent"],
    [counter(METRICS.messagesReceived, "Messages received", "{message}"), "messagesReceived"],
  ];
  const bytesSent = counter(METRICS.bytesSent, "Bytes written, where the transport counts them", "By");
  const bytesReceived = counter(METRICS.bytesReceived, "Bytes read, where the transport counts them", "By");
  const ports = meter.createObservableUpDownCounter(METRICS.ports, {
    description: "Ports by psession.port.state",
    unit: "{port}",
  });
  const observables: Observable[] = [
    created,
    ended,
    active,
    bytesSent,
    bytesReceived,
    ports,
    ...counters.map(([o]) => o),
  ];

  const histogram =
    options.roundTrip === false
      ? undefined
      : meter.createHistogram(METRICS.roundTrip, {
          description: "Round trip of a psession send: from the send to its reply, retries included",
          unit: "s",
          advice: { explicitBucketBoundaries: BOUNDS_MS.map((ms) => ms / 1000) },
        });
  /** Cumulative bucket counts already recorded, per series (manager or port name). */
  const recorded = new Map<string, number[]>();

  const observeStats = (result: BatchObservableResult, stats: SessionStats, attributes: Attributes): void => {
    result.observe(created, stats.created, attributes);
    for (const outcome of OUTCOMES) {
      result.observe(ended, stats.ended[outcome], { ...attributes, "psession.session.outcome": outcome });
    }
    result.observe(active, stats.live, attributes);
    for (const [observable, key] of counters) result.observe(observable, stats[key], attributes);
    if (stats.bytesSent !== undefined) result.observe(bytesSent, stats.bytesSent, attributes);
    if (stats.bytesReceived !== undefined) result.observe(bytesReceived, stats.bytesReceived, attributes);
  };

  const callback = (result: BatchObservableResult): void => {
    const total: ManagerStats = manager.stats({ buckets: histogram !== undefined });
    for (const state of STATES) result.observe(ports, total.ports[state], { ...base, "psession.port.state": state });
    if (!options.perPort) {
      observeStats(result, total, base);
      if (histogram !== undefined) replay(histogram, recorded, "", total, base);
      return;
    }
    const live = new Set<string>();
    for (const port of manager.ports.values()) {
      const stats = port.stats({ buckets: histogram !== undefined });
      const attributes = { ...base, "psession.port": port.name };
      observeStats(result, stats, attributes);
      if (histogram !== undefined) replay(histogram, recorded, port.name, stats, attributes);
      live.add(port.name);
    }
    for (const name of recorded.keys()) if (!live.has(name)) recorded.delete(name);
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}

/**
 * Records into `histogram` the replies measured since the last collection, bucket by bucket: each
 * at the middle of its psession bucket (in seconds), so it lands in the OpenTelemetry bucket of
 * the same bounds. Counts per bucket are exact; sum, min and max are as precise as the buckets.
 */
function replay(
  histogram: Histogram,
  recorded: Map<string, number[]>,
  key: string,
  stats: SessionStats,
  attributes: Attributes,
): void {
  const buckets = stats.roundTrip.buckets;
  if (buckets === undefined) return;
  let before = recorded.get(key);
  // A port re-created under the same name starts again from zero.
  if (before !== undefined && (before[before.length - 1] ?? 0) > stats.roundTrip.count) before = undefined;
  const now = buckets.map((b: { count: number }) => b.count);
  let previousNow = 0;
  let previousBefore = 0;
  for (let i = 0; i < now.length; i++) {
    const inBucket = now[i]! - previousNow;
    const known = (before?.[i] ?? 0) - previousBefore;
    previousNow = now[i]!;
    previousBefore = before?.[i] ?? 0;
    const fresh = inBucket - known;
    if (fresh <= 0) continue;
    const low = i === 0 ? 0 : BOUNDS_MS[i - 1]!;
    const high = BOUNDS_MS[i] ?? Math.max(low * 2, stats.roundTrip.max ?? low);
    const seconds = (low + high) / 2 / 1000;
    for (let n = 0; n < fresh; n++) histogram.record(seconds, attributes);
  }
  recorded.set(key, now);
}
