// Controller and devices over the embedded aedes broker (MQTT 3.1.1: the sid travels in the payload).
import { attach } from "@psession/mqtt";
import { SessionRemoteError, type Port } from "psession";
import { describe, expect, test } from "vitest";
import { aedesBroker, client, controller, device, manager, root, sleep, trackAttachment, until } from "./fixtures.js";

describe("aedes (MQTT 3.1.1)", () => {
  test("a controller opens a multi-turn session with a device named only by the templates", async () => {
    const broker = await aedesBroker();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(async (request, session) => {
      expect(request.command).toBe("turnOnLight");
      const answer = await session.send({ status: "needPassword" });
      return { status: answer.password === "123456" ? "ok" : "denied" };
    });
    const ctl = await controller(broker.url, base);
    // No createPort, no port(): the port is made on first use.
    const session = ctl.manager.createSession("lamp-1");
    expect(await session.send({ command: "turnOnLight" })).toMatchObject({ status: "needPassword", sid: session.id });
    expect(await session.send({ password: "123456" })).toMatchObject({ status: "ok", sid: session.id });
    session.end();
    expect(await ctl.manager.request("lamp-1", { command: "turnOnLight" })).toMatchObject({ status: "needPassword" });
    expect(ctl.manager.ports.get("lamp-1")?.role).toBe("client");
    expect(lamp.manager.ports.get("default")?.role).toBe("server");
    expect(ctl.errors).toEqual([]);
    expect(lamp.errors).toEqual([]);
  });

  test("both sides open sessions: a device asks its controller", async () => {
    const broker = await aedesBroker();
    const base = root();
    const ctl = await controller(broker.url, base);
    ctl.manager.handle((m, session) => ({ time: 1234, from: session.port, asked: m.ask }));
    const plug = await device(broker.url, base, "plug-7");
    plug.manager.handle((m) => ({ power: m.set }));
    await ctl.mqtt.whenReady();
    const [fromDevice, fromController] = await Promise.all([
      plug.manager.request({ ask: "time" }),
      ctl.manager.request("plug-7", { set: "on" }),
    ]);
    expect(fromDevice).toMatchObject({ time: 1234, from: "plug-7", asked: "time" });
    expect(fromController).toMatchObject({ power: "on" });
    expect(ctl.errors).toEqual([]);
    expect(plug.errors).toEqual([]);
  });

  test("a handler's error reaches the controller as SessionRemoteError", async () => {
    const broker = await aedesBroker();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(() => {
      throw Object.assign(new Error("bulb is broken"), { code: "E_BULB" });
    });
    const ctl = await controller(broker.url, base);
    const failure = await ctl.manager.request("lamp-1", { command: "on" }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionRemoteError);
    expect((failure as SessionRemoteError).code).toBe("E_BULB");
  });

  test("a firmware that only echoes sid works as a device", async () => {
    const broker = await aedesBroker();
    const base = root();
    const firmware = await client(broker.url);
    await firmware.subscribeAsync(`${base}/thermo/in`, { qos: 1 });
    firmware.on("message", (_topic, payload) => {
      const request = JSON.parse(payload.toString());
      firmware.publish(`${base}/thermo/out`, JSON.stringify({ sid: request.sid, temp: 21.5, echo: request.get }), {
        qos: 1,
      });
    });
    const ctl = await controller(broker.url, base);
    const replies = await Promise.all(["a", "b", "c"].map((get) => ctl.manager.request("thermo", { get })));
    expect(replies.map((r) => r.echo)).toEqual(["a", "b", "c"]);
    expect(replies.every((r) => r.temp === 21.5)).toBe(true);
    expect(ctl.errors).toEqual([]);
  });

  test("non-session publishes on the subscribed topics reach the message event with their port", async () => {
    const broker = await aedesBroker();
    const base = root();
    const ctl = await controller(broker.url, base);
    const seen: [unknown, string][] = [];
    ctl.manager.on("message", (message, port: Port) => void seen.push([message, port.name]));
    await ctl.mqtt.whenReady();
    const sensor = await client(broker.url);
    await sensor.publishAsync(`${base}/sensor-3/out`, JSON.stringify({ temperature: 19 }), { qos: 1 });
    await until(() => seen.length === 1, 2000, "the telemetry message");
    expect(seen[0]).toEqual([{ temperature: 19 }, "sensor-3"]);
    expect(ctl.mqtt.portNames).toContain("sensor-3");
  });

  test("subscriptions are active before the first request leaves; nothing is retained", async () => {
    const broker = await aedesBroker();
    const base = root();
    const events: string[] = [];
    broker.aedes.on("subscribe", (subs, c) => {
      if (c?.id.startsWith("ctl-")) events.push(`subscribe ${subs.map((s) => s.topic).join(",")}`);
    });
    const retained: string[] = [];
    broker.aedes.on("publish", (packet, c) => {
      if (c === null) return;
      if (packet.retain) retained.push(packet.topic);
      if (c.id.startsWith("ctl-")) events.push(`publish ${packet.topic}`);
    });
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(() => ({ ok: true }));
    // The request is sent the moment attach() returns: it must wait for the SUBACK.
    const { manager: m } = manager();
    const c = await client(broker.url, { clientId: `ctl-${Date.now()}` });
    trackAttachment(attach(m, c, { publish: `${base}/{port}/in`, subscribe: `${base}/{port}/out` }));
    expect(await m.request("lamp-1", { command: "on" })).toMatchObject({ ok: true });
    expect(events[0]).toBe(`subscribe ${base}/+/out`);
    expect(events[1]).toBe(`publish ${base}/lamp-1/in`);
    expect(retained).toEqual([]);
  });

  test("a retained command on a device's topic is never run (no ghost switching)", async () => {
    const broker = await aedesBroker();
    const base = root();
    const stray = await client(broker.url);
    await stray.publishAsync(`${base}/lamp-1/in`, JSON.stringify({ sid: 1, $turn: 1, command: "toggle" }), {
      qos: 1,
      retain: true,
    });
    let runs = 0;
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(() => {
      runs++;
      return {};
    });
    await lamp.mqtt.whenReady();
    await until(() => lamp.errors.length > 0, 2000, "the retained message to be reported");
    expect(lamp.errors[0]!.message).toMatch(/retained/);
    expect(runs).toBe(0);
    await stray.publishAsync(`${base}/lamp-1/in`, "", { qos: 1, retain: true }); // clear it
  });

  test("devices are isolated: a reply for one never reaches another", async () => {
    const broker = await aedesBroker();
    const base = root();
    const names = ["a", "b", "c", "d"];
    for (const name of names) {
      const d = await device(broker.url, base, name);
      d.manager.handle(async (m) => {
        await sleep(m.n % 3);
        return { name, n: m.n };
      });
    }
    const ctl = await controller(broker.url, base);
    const calls = [];
    for (let n = 0; n < 200; n++) {
      const name = names[n % names.length]!;
      calls.push(ctl.manager.request(name, { n }).then((r) => expect(r).toMatchObject({ name, n })));
    }
    await Promise.all(calls);
    expect(ctl.errors).toEqual([]);
  });
});
