// port.stats() bytes (each port's payloads: one client carries every port) and lastSeen from the
// status topic, over the embedded aedes broker.
import { SessionAbortError } from "psession";
import { describe, expect, test } from "vitest";
import { aedesBroker, client, controller, device, root, sleep, until } from "./fixtures.js";

const message = (i: number) => ({ text: "x".repeat(300), i });
const COUNT = 5;
/** What COUNT messages weigh as JSON, without their sids: the counts must be above it. */
const PAYLOAD = JSON.stringify(message(0)).length * COUNT;

describe("statistics over aedes", () => {
  test("bytesSent / bytesReceived count each port's payloads on both ends, and stay in the totals", async () => {
    const broker = await aedesBroker();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle((m) => m);
    const plug = await device(broker.url, base, "plug-2");
    plug.manager.handle((m) => m);
    const ctl = await controller(broker.url, base);
    for (let i = 0; i < COUNT; i++) {
      expect(await ctl.manager.request("lamp-1", message(i))).toMatchObject({ i });
    }
    await ctl.manager.request("plug-2", { small: true });

    const lampPort = ctl.manager.ports.get("lamp-1")!;
    const plugPort = ctl.manager.ports.get("plug-2")!;
    const c = lampPort.stats();
    const d = lamp.manager.ports.get("default")!.stats();
    expect(c.bytesSent).toBeGreaterThan(PAYLOAD);
    expect(c.bytesReceived).toBeGreaterThan(PAYLOAD); // the echoes
    expect(d.bytesSent).toBeGreaterThan(PAYLOAD);
    expect(d.bytesReceived).toBeGreaterThan(PAYLOAD);
    // Payloads only, so the two ends agree byte for byte.
    expect(d.bytesReceived).toBe(c.bytesSent);
    expect(d.bytesSent).toBe(c.bytesReceived);
    // Per port, not per client: the other device's port counts its own small exchange.
    const p = plugPort.stats();
    expect(p.bytesSent).toBeGreaterThan(JSON.stringify({ small: true }).length);
    expect(p.bytesSent).toBeLessThan(100);
    expect(ctl.manager.stats().bytesSent).toBe(c.bytesSent! + p.bytesSent!);

    const totals = ctl.manager.stats();
    lampPort.destroy();
    const after = ctl.manager.stats();
    expect(after.bytesSent).toBe(totals.bytesSent);
    expect(after.bytesReceived).toBe(totals.bytesReceived);
    expect(lampPort.stats().bytesSent).toBe(c.bytesSent);
    expect(ctl.errors).toEqual([]);
    expect(lamp.errors).toEqual([]);
  });

  test("a connection drop moves a port to a fresh transport: its counts carry on", async () => {
    const broker = await aedesBroker();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle((m) => (m.hang ? new Promise(() => {}) : m));
    const ctl = await controller(broker.url, base);
    for (let i = 0; i < COUNT; i++) await ctl.manager.request("lamp-1", message(i));
    const port = ctl.manager.ports.get("lamp-1")!;
    const hanging = ctl.manager.request("lamp-1", { hang: true }, { timeout: 10_000 }).catch((e: unknown) => e);
    await sleep(50);
    const before = port.stats();
    const totals = ctl.manager.stats();
    const deviceTotals = lamp.manager.stats();

    broker.cut(); // the request in flight fails: the port moves to a fresh transport
    expect(await hanging).toBeInstanceOf(SessionAbortError);
    expect(port.stats().bytesSent).toBeGreaterThanOrEqual(before.bytesSent!);
    expect(ctl.manager.stats().bytesSent).toBeGreaterThanOrEqual(totals.bytesSent!);
    expect(ctl.manager.stats().bytesReceived).toBeGreaterThanOrEqual(totals.bytesReceived!);
    expect(lamp.manager.stats().bytesReceived).toBeGreaterThanOrEqual(deviceTotals.bytesReceived!);

    await until(() => ctl.mqtt.ready && lamp.mqtt.ready, 5000, "both ends to subscribe again");
    // Retries: the device may subscribe again a moment after the controller.
    const retry = { timeout: 5000, retryCount: 10, retryInterval: 100 };
    for (let i = 0; i < COUNT; i++) await ctl.manager.request("lamp-1", message(i), retry);
    const after = port.stats();
    expect(after.bytesSent).toBeGreaterThan(before.bytesSent! + PAYLOAD);
    expect(after.bytesReceived).toBeGreaterThan(before.bytesReceived! + PAYLOAD);
    expect(ctl.manager.stats().bytesSent).toBe(after.bytesSent);
  });

  test("lastSeen: when the device's status topic last said online (retained statuses not counted)", async () => {
    const broker = await aedesBroker();
    const base = root();
    const status = `${base}/plug/status`;
    const raw = await client(broker.url);
    await raw.publishAsync(status, "online", { qos: 1, retain: true }); // an old, retained status
    const ctl = await controller(broker.url, base, { status: `${base}/{port}/status` });
    const port = ctl.mqtt.port("plug");
    await ctl.mqtt.whenReady();
    await sleep(100);
    expect(port.lastSeen).toBeUndefined(); // the retained "online" says nothing about now

    const before = Date.now();
    await raw.publishAsync(status, "online", { qos: 1 });
    await until(() => port.lastSeen !== undefined, 2000, "lastSeen");
    const first = port.lastSeen!;
    expect(first).toBeGreaterThanOrEqual(before);
    await sleep(20);
    await raw.publishAsync(status, "online", { qos: 1 });
    await until(() => port.lastSeen! > first, 2000, "lastSeen to advance");
    expect(port.stats().messagesReceived).toBe(0);
    expect(port.stats().bytesReceived).toBe(0); // statuses are not the port's payloads
    expect(ctl.errors).toEqual([]);
  });
});
