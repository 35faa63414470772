// The OpenTelemetry binding read through the OpenTelemetry SDK: a MeterProvider whose reader exports
// into an InMemoryMetricExporter. Traffic is scripted over an in-memory channel, so every count is known.
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { SessionManager, SessionTimeoutError, attach, createMemoryTransportPair } from "psession";
import { afterEach, expect, test } from "vitest";
import { METRICS, observeManager } from "../src/index.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  cleanups.push(() => provider.shutdown());
  /** Collects now and returns the metrics of that collection by name. */
  const collect = async (): Promise<Map<string, MetricData>> => {
    exporter.reset();
    await reader.forceFlush();
    const batches = exporter.getMetrics();
    const byName = new Map<string, MetricData>();
    for (const scope of batches[batches.length - 1]?.scopeMetrics ?? [])
      for (const m of scope.metrics) byName.set(m.descriptor.name, m);
    return byName;
  };
  return { meter: provider.getMeter("psession-test"), collect };
}

function pair() {
  const [a, b] = createMemoryTransportPair();
  const client = new SessionManager();
  const server = new SessionManager();
  client.on("error", () => {});
  server.on("error", () => {});
  cleanups.push(() => {
    client.clear();
    server.clear();
    a.close();
  });
  const port = attach(client, a, { port: "lamp-1" });
  attach(server, b);
  server.handle(async (m) => {
    if (m.wait) await new Promise((resolve) => setTimeout(resolve, m.wait));
    if (m.fail) throw new Error("broken bulb");
    return { ok: true };
  });
  return { client, port };
}

/** The value of a sum metric's point with these attributes (all of them, exactly). */
function point(
  metrics: Map<string, MetricData>,
  name: string,
  attributes: Record<string, unknown> = {},
): number | undefined {
  const metric = metrics.get(name);
  const found = metric?.dataPoints.find((p) => JSON.stringify(p.attributes) === JSON.stringify(attributes));
  return found?.value as number | undefined;
}

test("counters, up-down counters and the round-trip histogram, as the SDK reads them", async () => {
  const { meter, collect } = sdk();
  const { client, port } = pair();
  cleanups.push(observeManager(client, meter));

  for (let i = 0; i < 3; i++) await port.request({ n: i });
  await port.request({ fail: true }).catch(() => {});
  await port
    .request({ wait: 50 }, { timeout: 10, retryCount: 1 })
    .catch((e) => expect(e).toBeInstanceOf(SessionTimeoutError));
  const metrics = await collect();

  expect(point(metrics, METRICS.sessionsCreated)).toBe(5);
  expect(point(metrics, METRICS.sessionsEnded, { "psession.session.outcome": "replied" })).toBe(3);
  expect(point(metrics, METRICS.sessionsEnded, { "psession.session.outcome": "remoteError" })).toBe(1);
  expect(point(metrics, METRICS.sessionsEnded, { "psession.session.outcome": "timedOut" })).toBe(1);
  expect(point(metrics, METRICS.sessionsActive)).toBe(0);
  expect(point(metrics, METRICS.requests)).toBe(5);
  expect(point(metrics, METRICS.timeouts)).toBe(1);
  expect(point(metrics, METRICS.retries)).toBe(1);
  // 5 requests, 1 retry, 1 cancel notice after the timeout.
  expect(point(metrics, METRICS.messagesSent)).toBe(7);
  expect(point(metrics, METRICS.messagesReceived)).toBe(4);
  expect(point(metrics, METRICS.ports, { "psession.port.state": "attached" })).toBe(1);
  expect(point(metrics, METRICS.ports, { "psession.port.state": "detached" })).toBe(1); // "default"
  // The memory transport counts no bytes: no series at all rather than a made-up 0.
  expect(metrics.get(METRICS.bytesSent)?.dataPoints ?? []).toEqual([]);

  const histogram = metrics.get(METRICS.roundTrip)!;
  expect(histogram.dataPointType).toBe(DataPointType.HISTOGRAM);
  expect(histogram.descriptor.unit).toBe("s");
  const h = histogram.dataPoints[0]!.value as { count: number; buckets: { boundaries: number[]; counts: number[] } };
  expect(h.count).toBe(4);
  expect(h.buckets.boundaries.slice(0, 3)).toEqual([0.001, 0.002, 0.004]);
  // Bucket for bucket what psession counted.
  const ours = client.stats({ buckets: true }).roundTrip.buckets!;
  let cumulative = 0;
  for (let i = 0; i < ours.length; i++) {
    cumulative += h.buckets.counts[i]!;
    expect(cumulative).toBe(ours[i]!.count);
  }

  // A second collection adds only what happened since: nothing recorded twice.
  await port.request({ n: 9 });
  const again = await collect();
  expect((again.get(METRICS.roundTrip)!.dataPoints[0]!.value as { count: number }).count).toBe(5);
  expect(point(again, METRICS.requests)).toBe(6);
});

test("per-port series, attributes, and stopping", async () => {
  const { meter, collect } = sdk();
  const { client, port } = pair();
  const second = createMemoryTransportPair();
  const other = attach(client, second[0], { port: "lamp-2" });
  second[1].onMessage((m) => second[1].send({ sid: (m as { sid: number }).sid, ok: true }));
  cleanups.push(() => second[0].close());
  const stop = observeManager(client, meter, { perPort: true, attributes: { site: "hall" }, roundTrip: false });

  await port.request({ n: 1 });
  await other.request({ n: 1 });
  await other.request({ n: 2 });
  const metrics = await collect();
  expect(point(metrics, METRICS.requests, { site: "hall", "psession.port": "lamp-1" })).toBe(1);
  expect(point(metrics, METRICS.requests, { site: "hall", "psession.port": "lamp-2" })).toBe(2);
  expect(point(metrics, METRICS.requests, { site: "hall", "psession.port": "default" })).toBe(0);
  expect(metrics.get(METRICS.roundTrip)).toBeUndefined();

  // Stopped: psession is no longer read (the SDK keeps the last cumulative values it had).
  stop();
  await port.request({ n: 2 });
  const after = await collect();
  expect(point(after, METRICS.requests, { site: "hall", "psession.port": "lamp-1" })).toBe(1);
  expect(port.stats().requests).toBe(2);
});
