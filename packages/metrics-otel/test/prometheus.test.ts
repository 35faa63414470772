// The Prometheus example (examples/prometheus.ts), scraped over HTTP after scripted traffic.
import type { AddressInfo } from "node:net";
import { SessionManager, attach, createMemoryTransportPair } from "psession";
import { afterEach, expect, test } from "vitest";
import { psessionRegistry, serveMetrics } from "../examples/prometheus.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Parses the text exposition format into "name{labels}" → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

test("GET /metrics: psession's counters, gauges and round-trip histogram", async () => {
  const [a, b] = createMemoryTransportPair();
  const manager = new SessionManager();
  const device = new SessionManager();
  cleanups.push(() => {
    manager.clear();
    device.clear();
    a.close();
  });
  const port = attach(manager, a, { port: "lamp-1" });
  attach(device, b);
  device.handle(async (m) => {
    if (m.wait) await new Promise((resolve) => setTimeout(resolve, m.wait));
    return { ok: true };
  });
  const server = await serveMetrics(psessionRegistry(manager), 0);
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

  for (let i = 0; i < 4; i++) await port.request({ n: i });
  await port.request({ wait: 60 }, { timeout: 20 }).catch(() => {});

  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  const text = await response.text();
  expect(text).toContain("# TYPE psession_round_trip_seconds histogram");
  expect(text).toContain("# TYPE psession_requests_total counter");
  const m = parse(text);
  expect(m.get("psession_requests_total")).toBe(5);
  expect(m.get("psession_request_timeouts_total")).toBe(1);
  expect(m.get("psession_sessions_created_total")).toBe(5);
  expect(m.get('psession_sessions_ended_total{outcome="replied"}')).toBe(4);
  expect(m.get('psession_sessions_ended_total{outcome="timedOut"}')).toBe(1);
  expect(m.get("psession_sessions_live")).toBe(0);
  expect(m.get('psession_ports{state="attached"}')).toBe(1);
  // 5 requests and the cancel notice after the timeout.
  expect(m.get("psession_messages_sent_total")).toBe(6);
  expect(m.get("psession_round_trip_seconds_count")).toBe(4);
  expect(m.get('psession_round_trip_seconds_bucket{le="+Inf"}')).toBe(4);
  const stats = manager.stats({ buckets: true }).roundTrip;
  for (const bucket of stats.buckets!) {
    const le = bucket.le === Infinity ? "+Inf" : String(bucket.le / 1000);
    expect(m.get(`psession_round_trip_seconds_bucket{le="${le}"}`)).toBe(bucket.count);
  }
  // Bytes: the memory transport counts none, so the counters stay at 0.
  expect(m.get("psession_bytes_sent_total")).toBe(0);

  // A second scrape sees new traffic.
  await port.request({ n: 9 });
  const again = parse(await (await fetch(url)).text());
  expect(again.get("psession_requests_total")).toBe(6);
  expect(again.get("psession_round_trip_seconds_count")).toBe(5);
  expect((await fetch(url.replace("/metrics", "/other"))).status).toBe(404);
});
