// Prometheus without OpenTelemetry: prom-client metrics whose values are read from psession's
// statistics at scrape time (`manager.stats()`), served on /metrics. Copy it into your service.
import { createServer, type Server } from "node:http";
import { Counter, Gauge, type Histogram, type MetricValueWithName, Registry } from "prom-client";
import type { ManagerStats, RoundTripStats, SessionManager, SessionOutcome } from "psession";

const OUTCOMES: readonly SessionOutcome[] = [
  "replied",
  "timedOut",
  "cancelled",
  "aborted",
  "remoteError",
  "expired",
  "failed",
];

/** A registry holding psession's metrics: counters, gauges and the round-trip histogram. */
export function psessionRegistry(manager: SessionManager, registry = new Registry()): Registry {
  // One read of the statistics per scrape: prom-client asks every metric in the same tick.
  let cached: ManagerStats | undefined;
  const stats = (): ManagerStats => {
    if (cached === undefined) {
      cached = manager.stats({ buckets: true });
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached;
  };
  const counter = (name: string, help: string, read: (s: ManagerStats) => number | undefined) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read(stats());
        this.reset();
        if (value !== undefined) this.inc(value);
      },
    });
  counter("psession_sessions_created_total", "Sessions opened (by either side)", (s) => s.created);
  counter("psession_requests_total", "Sends started (retries not counted)", (s) => s.requests);
  counter("psession_request_timeouts_total", "Sends that got no reply after all attempts", (s) => s.timeouts);
  counter("psession_request_retries_total", "Attempts past the first of a send", (s) => s.retries);
  counter("psession_duplicates_total", "Repeated turns recognised and not run again", (s) => s.duplicates);
  counter("psession_late_replies_total", "Late or stray answers dropped", (s) => s.late);
  counter("psession_messages_sent_total", "Messages handed to the transport", (s) => s.messagesSent);
  counter("psession_messages_received_total", "Messages received", (s) => s.messagesReceived);
  counter("psession_bytes_sent_total", "Bytes written (transports that count them)", (s) => s.bytesSent);
  counter("psession_bytes_received_total", "Bytes read (transports that count them)", (s) => s.bytesReceived);
  new Counter({
    name: "psession_sessions_ended_total",
    help: "Sessions ended, by outcome",
    labelNames: ["outcome"],
    registers: [registry],
    collect() {
      const { ended } = stats();
      this.reset();
      for (const outcome of OUTCOMES) this.inc({ outcome }, ended[outcome]);
    },
  });
  new Gauge({
    name: "psession_sessions_live",
    help: "Sessions alive now",
    registers: [registry],
    collect() {
      this.set(stats().live);
    },
  });
  new Gauge({
    name: "psession_ports",
    help: "Ports by state",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      for (const [state, n] of Object.entries(stats().ports)) this.set({ state }, n);
    },
  });
  roundTripHistogram(() => stats().roundTrip, registry);
  return registry;
}

/**
 * prom-client's Histogram is fed one observation at a time; psession already holds the buckets,
 * so this metric hands them over as they are at scrape time (cumulative, `le` in seconds). The
 * registry prints any object with a name, help, type and `get()`.
 */
function roundTripHistogram(read: () => RoundTripStats, registry: Registry): void {
  const name = "psession_round_trip_seconds";
  const help = "Round trip of a send: from the send to its reply, retries included";
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    async get() {
      const rt = read();
      const values: MetricValueWithName<string>[] = rt.buckets!.map((b) => ({
        metricName: `${name}_bucket`,
        labels: { le: b.le === Infinity ? "+Inf" : b.le / 1000 },
        value: b.count,
      }));
      values.push({ metricName: `${name}_sum`, labels: {}, value: rt.sum / 1000 });
      values.push({ metricName: `${name}_count`, labels: {}, value: rt.count });
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  };
  registry.registerMetric(metric as unknown as Histogram);
}

/** Serves `registry` on http://host:port/metrics. Resolves once listening. */
export function serveMetrics(registry: Registry, port = 9464, host = "127.0.0.1"): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== "/metrics") {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
