// Hostile and broken publishes on the session topics: each one is reported on "error" with a typed
// error, nothing is thrown out of MQTT.js's listener, and the other devices never notice.
import { SessionChannelError, SessionInvalidError, SessionSendError } from "psession";
import { describe, expect, test } from "vitest";
import { aedesBroker, client, controller, device, root, sleep, until } from "./fixtures.js";

describe("bad input over aedes", () => {
  test("undecodable, huge, unknown-port and retained publishes are reported and disturb nobody", async () => {
    const broker = await aedesBroker();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(async (m) => {
      await sleep(m.wait ?? 0);
      return { ok: m.n };
    });
    const ctl = await controller(broker.url, base, { maxFrameBytes: 64 * 1024 });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => void uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      // A slow session to lamp-1 is in flight the whole time.
      const slow = ctl.manager.request("lamp-1", { n: 1, wait: 300 });
      await sleep(20);
      const raw = await client(broker.url);
      await raw.publishAsync(`${base}/lamp-1/out`, "not json {", { qos: 1 });
      await raw.publishAsync(`${base}/lamp-1/out`, Buffer.from([0xff, 0xfe, 0x00]), { qos: 1 });
      await raw.publishAsync(`${base}/lamp-1/out`, JSON.stringify({ sid: 1, blob: "x".repeat(100 * 1024) }), {
        qos: 1,
      });
      // A reply (odd sid: the controller's) for a device the controller never talked to.
      await raw.publishAsync(`${base}/ghost/out`, JSON.stringify({ sid: 3, $re: 1, status: "ok" }), { qos: 1 });
      // A port name no topic level may carry.
      await raw.publishAsync(`${base}/$weird/out`, JSON.stringify({ hello: 1 }), { qos: 1 });
      await until(() => ctl.errors.length >= 5, 3000, "five reports");
      expect(await slow).toMatchObject({ ok: 1 });
      expect(await ctl.manager.request("lamp-1", { n: 2 })).toMatchObject({ ok: 2 });

      const codes = ctl.errors.map((e) => (e instanceof SessionChannelError ? e.code : e.name));
      expect(codes.filter((c) => c === "DECODE_FAILED")).toHaveLength(2);
      expect(codes.filter((c) => c === "FRAME_TOO_LARGE")).toHaveLength(1);
      const invalid = ctl.errors.filter((e) => e instanceof SessionInvalidError);
      expect(invalid.map((e) => e.message).join("\n")).toMatch(/reply for port "ghost"/);
      expect(invalid.map((e) => e.message).join("\n")).toMatch(/\$weird/);
      expect(ctl.errors).toHaveLength(5);
      expect(ctl.manager.ports.has("ghost")).toBe(false);
      expect(uncaught).toEqual([]);
      expect(lamp.errors).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });

  test("an outbound message over maxFrameBytes fails that send at once, not sent", async () => {
    const broker = await aedesBroker();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(() => ({ ok: true }));
    const ctl = await controller(broker.url, base, { maxFrameBytes: 1000 });
    const failure = await ctl.manager.request("lamp-1", { blob: "é".repeat(600) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionSendError);
    expect((failure as Error).message).toMatch(/bytes is over maxFrameBytes 1000: not sent/);
    expect(await ctl.manager.request("lamp-1", { small: true })).toMatchObject({ ok: true });
  });

  test("devices heard from first are bounded by maxPorts", async () => {
    const broker = await aedesBroker();
    const base = root();
    const ctl = await controller(broker.url, base, { maxPorts: 3 });
    const seen: string[] = [];
    ctl.manager.on("message", (_m, port) => void seen.push(port.name));
    await ctl.mqtt.whenReady();
    const raw = await client(broker.url);
    for (const name of ["a", "b", "c", "d", "e"]) {
      await raw.publishAsync(`${base}/${name}/out`, JSON.stringify({ t: 1 }), { qos: 1 });
    }
    await until(() => seen.length + ctl.errors.length === 5, 2000, "five publishes to surface");
    expect(seen).toEqual(["a", "b", "c"]);
    expect(ctl.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/maxPorts.*"d" was refused/),
      expect.stringMatching(/maxPorts.*"e" was refused/),
    ]);
    // Ports the application asks for are not bounded by it.
    expect(ctl.mqtt.port("f").name).toBe("f");
  });

  test("a listener that throws on the manager does not escape into MQTT.js", async () => {
    const broker = await aedesBroker();
    const base = root();
    const ctl = await controller(broker.url, base);
    ctl.manager.on("message", () => {
      throw new Error("listener bug");
    });
    await ctl.mqtt.whenReady();
    const raw = await client(broker.url);
    await raw.publishAsync(`${base}/sensor/out`, JSON.stringify({ t: 1 }), { qos: 1 });
    await until(() => ctl.errors.length === 1, 2000, "the listener failure report");
    expect(ctl.errors[0]!.message).toMatch(/listener bug/);
    expect(ctl.client.connected).toBe(true);
  });
});
