// `pnpm demo`, run as the root README says, on the embedded broker and on a private mosquitto in
// MQTT 5: its exit code, its time, and the key lines of its transcript.
import mqtt from "mqtt";
import { afterEach, describe, expect, test } from "vitest";
import { findMosquitto, type MosquittoBroker, startMosquitto } from "../../adapter-mqtt/test/brokers.js";
import { envWith, run, shellLines, tryItSection } from "./commands.js";
import { expectDemoTranscript, lastStamp } from "./transcript.js";

const section = tryItSection();
const lines = shellLines(section);
const PNPM = "npx -y pnpm@10.34.9";
/** The README's first command: install, then the demo. The test runs the demo half (installing is the test run's own job). */
const first = lines[0]!;
const demo = first.split(" && ")[1]!;
const withBroker = lines.find((line) => line.startsWith("MQTT_URL="));

const brokers: MosquittoBroker[] = [];
afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.close();
});

test("the README's Try it section starts with install and demo, and shows MQTT_URL and demo:dialogue", () => {
  expect(first).toBe(`${PNPM} install && ${PNPM} demo`);
  expect(withBroker).toBe(`MQTT_URL=mqtt://127.0.0.1:1883 ${PNPM} demo`);
  expect(section).toContain(`\`${PNPM} demo:dialogue\``);
});

test("pnpm demo, embedded aedes broker (MQTT 3.1.1): the transcript, exit 0, in seconds", async () => {
  const result = await run(demo, envWith());
  expect(result.code, result.output).toBe(0);
  expect(result.output).toMatch(/broker: embedded aedes on mqtt:\/\/127\.0\.0\.1:\d+, MQTT 3\.1\.1/);
  expectDemoTranscript(result.output);
  expect(result.output).not.toMatch(/MQTT 5: correlationData/);
  expect(lastStamp(result.output)).toBeLessThan(10);
}, 90_000);

const mosquittoMissing =
  findMosquitto() === undefined ? "mosquitto is not installed (scripts/ensure-services.sh installs it)" : undefined;
if (mosquittoMissing) console.log(`[@psession/demo] skipping the mosquitto run: ${mosquittoMissing}`);

describe.skipIf(mosquittoMissing !== undefined)("against mosquitto", () => {
  test("MQTT_URL=… pnpm demo, a private mosquitto (MQTT 5): the transcript, exit 0, no retained message left", async () => {
    const broker = await startMosquitto();
    brokers.push(broker);
    const command = withBroker!.replace("mqtt://127.0.0.1:1883", broker.url);
    const result = await run(command, envWith());
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(`broker: MQTT_URL ${broker.url}, MQTT 5`);
    expectDemoTranscript(result.output);
    // MQTT 5 request/response on the wire: the request names where to answer, the answer echoes the correlation.
    expect(result.output).toMatch(
      /controller → lamp +\{"state":"ON",.*\(MQTT 5: correlationData (\w+)\.1, responseTopic psession-demo\/lamp, expiry \d+ s\)/,
    );
    expect(result.output).toMatch(/lamp → controller +\{"status":"needPassword",.*\(MQTT 5: correlationData \w+\.1\)/);
    expect(lastStamp(result.output)).toBeLessThan(10);

    // The demo removed the retained availability it published on the user's broker.
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    const retained: string[] = [];
    client.on("message", (topic, payload) => retained.push(`${topic} ${payload.toString()}`));
    await client.subscribeAsync("psession-demo/#");
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.endAsync();
    expect(retained).toEqual([]);
  }, 90_000);
});

test("a broker that is not there: the demo says so and exits 1", async () => {
  // A port that refused connections a moment ago (listen, read it, close).
  const net = await import("node:net");
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as import("node:net").AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const result = await run(withBroker!.replace("mqtt://127.0.0.1:1883", `mqtt://127.0.0.1:${port}`), envWith());
  expect(result.code, result.output).toBe(1);
  expect(result.output).toMatch(/demo FAILED: .*ECONNREFUSED/);
}, 90_000);

test("pnpm demo:dialogue, the core's dialogue over an in-memory channel, as the README names it", async () => {
  const command = /`(npx -y pnpm@10\.34\.9 demo:dialogue)`/.exec(section)![1]!;
  const result = await run(command, envWith());
  expect(result.code, result.output).toBe(0);
  expect(result.output).toMatch(/result: light is on \(status ok, session 1\)/);
  expect(result.output).toMatch(/wrong password → denied/);
}, 90_000);
