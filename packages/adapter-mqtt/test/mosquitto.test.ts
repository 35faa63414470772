// MQTT 5 against a real mosquitto (a private one on a free loopback port, or MQTT_URL): request
// properties, plain MQTT 5 responders, lost properties, message expiry, shared subscriptions,
// Last Will. The broker-restart test always starts its own broker, since it restarts it.
import { attach } from "@psession/mqtt";
import { SessionAbortError, type SessionChannelError, SessionInvalidError } from "psession";
import { describe, expect, test } from "vitest";
import {
  client,
  controller,
  device,
  manager,
  mosquittoMissing,
  mosquittoUrl,
  privateMosquitto,
  root,
  sleep,
  trackAttachment,
  until,
} from "./fixtures.js";

const v5 = { protocolVersion: 5 as const };

describe.skipIf(mosquittoMissing !== undefined)("mosquitto, MQTT 5", () => {
  test("requests carry responseTopic, correlationData and messageExpiryInterval; nothing is retained", async () => {
    const url = await mosquittoUrl();
    const base = root();
    const lamp = await device(url, base, "lamp-1", { client: v5 });
    lamp.manager.handle(async (request, session) => {
      const answer = await session.send({ status: "needPassword" });
      return { status: answer.password === "123456" ? "ok" : "denied", command: request.command };
    });
    const spy = await client(url, v5);
    const seen: {
      topic: string;
      retain: boolean;
      properties: Record<string, unknown> | undefined;
      payload: Record<string, unknown>;
    }[] = [];
    spy.on(
      "message",
      (topic, payload, packet) =>
        void seen.push({
          topic,
          retain: packet.retain,
          properties: packet.properties as Record<string, unknown>,
          payload: JSON.parse(payload.toString()),
        }),
    );
    await spy.subscribeAsync([`${base}/lamp-1/in`, `${base}/lamp-1/out`], { qos: 1 });
    const ctl = await controller(url, base, { client: v5 });
    const session = ctl.manager.createSession("lamp-1");
    expect(await session.send({ command: "turnOnLight" }, { timeout: 4000 })).toMatchObject({ status: "needPassword" });
    expect(await session.send({ password: "123456" })).toMatchObject({ status: "ok", command: "turnOnLight" });
    session.end();
    await until(() => seen.length === 4, 2000, "the spy to see four messages");
    const request = seen.find((m) => m.topic.endsWith("/in"))!;
    expect(request.properties?.responseTopic).toBe(`${base}/lamp-1/out`);
    expect(Buffer.from(request.properties?.correlationData as Uint8Array).toString()).toMatch(
      new RegExp(`\\.${session.id}$`),
    );
    expect(request.properties?.messageExpiryInterval).toBe(4); // the send's 4000 ms timeout
    expect(request.payload.sid).toBe(session.id);
    const reply = seen.find((m) => m.topic.endsWith("/out"))!;
    expect(Buffer.from(reply.properties?.correlationData as Uint8Array)).toEqual(
      Buffer.from(request.properties?.correlationData as Uint8Array),
    );
    expect(seen.every((m) => m.retain === false)).toBe(true);
    expect(ctl.errors).toEqual([]);
    expect(lamp.errors).toEqual([]);
  });

  test("a plain MQTT 5 responder that knows nothing of psession works as a device", async () => {
    const url = await mosquittoUrl();
    const base = root();
    const responder = await client(url, v5);
    await responder.subscribeAsync(`${base}/meter/in`, { qos: 1 });
    responder.on("message", (_topic, payload, packet) => {
      const { responseTopic, correlationData } = packet.properties ?? {};
      const asked = JSON.parse(payload.toString()).read;
      // Answers on responseTopic with the same correlationData; no sid in its payload.
      responder.publish(responseTopic!, JSON.stringify({ value: 42, read: asked }), {
        qos: 1,
        properties: { correlationData },
      });
    });
    const ctl = await controller(url, base, { client: v5 });
    const replies = await Promise.all(["kWh", "V", "A"].map((read) => ctl.manager.request("meter", { read })));
    expect(replies.map((r) => r.read)).toEqual(["kWh", "V", "A"]);
    expect(replies.every((r) => r.value === 42 && typeof r.sid === "number")).toBe(true);
    expect(ctl.errors).toEqual([]);
  });

  test("without properties (a broker that drops them) the payload envelope still correlates; foreign correlationData is reported", async () => {
    const url = await mosquittoUrl();
    const base = root();
    const firmware = await client(url, v5);
    await firmware.subscribeAsync(`${base}/thermo/in`, { qos: 1 });
    firmware.on("message", (_topic, payload) => {
      const { sid, get } = JSON.parse(payload.toString());
      // Replies on the fixed topic, sid in the payload, no v5 properties at all.
      firmware.publish(`${base}/thermo/out`, JSON.stringify({ sid, get, temp: 20 }), { qos: 1 });
    });
    const ctl = await controller(url, base, { client: v5 });
    expect(await ctl.manager.request("thermo", { get: "temp" })).toMatchObject({ get: "temp", temp: 20 });
    // A reply-shaped publish with someone else's correlation: reported, not delivered.
    await firmware.publishAsync(`${base}/thermo/out`, JSON.stringify({ status: "ok" }), {
      qos: 1,
      properties: { correlationData: Buffer.from("not-ours-1") },
    });
    await until(() => ctl.errors.length === 1, 2000, "the foreign correlation report");
    expect(ctl.errors[0]).toBeInstanceOf(SessionInvalidError);
    expect(ctl.errors[0]!.message).toMatch(/correlationData is not ours/);
    expect(await ctl.manager.request("thermo", { get: "again" })).toMatchObject({ get: "again" });
  });

  test("a command that expired while its device was away never reaches it", async () => {
    const url = await mosquittoUrl();
    const base = root();
    const clientId = `psession-sleepy-${Date.now()}`;
    // The device has a persistent session: the broker queues for it while it is away.
    const first = await client(url, { ...v5, clientId, clean: false, properties: { sessionExpiryInterval: 300 } });
    await first.subscribeAsync(`${base}/sleepy/in`, { qos: 1 });
    await new Promise<void>((resolve) => first.end(false, {}, () => resolve()));
    // messageExpiryInterval comes from the send's timeout (the port's sessionTimeout, 1 s here).
    const ctl = await controller(url, base, { client: v5, manager: { sessionTimeout: 1000 } });
    const stale = await ctl.manager.request("sleepy", { command: "on" }).catch((e: unknown) => e);
    expect((stale as Error).name).toBe("SessionTimeoutError");
    await sleep(1600); // past the 1 s messageExpiryInterval
    const got: string[] = [];
    const back = await client(url, { ...v5, clientId, clean: false, properties: { sessionExpiryInterval: 300 } }, (c) =>
      c.on("message", (_t, payload) => void got.push(payload.toString())),
    );
    await sleep(300);
    expect(got.filter((m) => JSON.parse(m).command !== undefined)).toEqual([]);
    // Control: a command still within its expiry is delivered after the device comes back.
    await new Promise<void>((resolve) => back.end(false, {}, () => resolve()));
    // (A second controller, with a 10 s sessionTimeout: an expiry a slow machine cannot outrun.)
    const patient = await controller(url, base, { client: v5, manager: { sessionTimeout: 10_000 } });
    const fresh = patient.manager.request("sleepy", { command: "fresh" }).catch(() => undefined);
    await sleep(100);
    const got3: string[] = [];
    const third = await client(
      url,
      { ...v5, clientId, clean: false, properties: { sessionExpiryInterval: 300 } },
      (c) => c.on("message", (_t, payload) => void got3.push(payload.toString())),
    );
    await until(() => got3.length >= 1, 2000, "the fresh command");
    expect(JSON.parse(got3[0]!).command).toBe("fresh");
    await new Promise<void>((resolve) => third.end(true, {}, () => resolve()));
    await patient.mqtt.close();
    await fresh;
    // Leave no persistent session behind on a shared broker.
    const cleanup = await client(url, { ...v5, clientId, clean: true });
    await new Promise<void>((resolve) => cleanup.end(false, {}, () => resolve()));
  });

  test("shared subscriptions split sessions over instances; every turn of a session stays on its instance", async () => {
    const url = await mosquittoUrl();
    const base = root();
    const instances = ["i1", "i2", "i3"];
    const served = new Map<string, number>();
    for (const id of instances) {
      const { manager: m } = manager();
      const c = await client(url, v5);
      m.handle(async (request, session) => {
        served.set(id, (served.get(id) ?? 0) + 1);
        const more = await session.send({ status: "needPassword", instance: id });
        return { status: more.password === "123456" ? "ok" : "denied", instance: id, n: request.n };
      });
      const instance = trackAttachment(
        attach(m, c, { publish: `${base}/{port}/res`, subscribe: `$share/workers/${base}/{port}/req` }),
      );
      await instance.whenReady();
    }
    const requester = await device(url, base, "app-1", {
      client: v5,
      publish: `${base}/app-1/req`,
      subscribe: `${base}/app-1/res`,
    });
    await requester.mqtt.whenReady();
    const results = await Promise.all(
      Array.from({ length: 30 }, async (_, n) => {
        const session = requester.manager.createSession();
        const first = await session.send({ n });
        const second = await session.send({ password: "123456" });
        session.end();
        return { first: first.instance, second: second.instance, status: second.status, n: second.n };
      }),
    );
    for (const [n, r] of results.entries()) {
      expect(r.status).toBe("ok");
      expect(r.n).toBe(n);
      expect(r.second).toBe(r.first);
    }
    expect([...served.values()].reduce((a, b) => a + b, 0)).toBe(30);
    expect(served.size).toBeGreaterThan(1);
    expect(requester.errors).toEqual([]);
  });

  test("Last Will: a device dropping off fails its pending sessions at once", async () => {
    const url = await mosquittoUrl();
    const base = root();
    const plug = await device(url, base, "plug", { client: v5, withStatus: true });
    let reached = 0;
    plug.manager.handle(() => {
      reached++;
      return new Promise(() => {});
    });
    const ctl = await controller(url, base, { client: v5, status: `${base}/{port}/status` });
    const pending = ctl.manager.request("plug", { command: "on" }, { timeout: 20_000 }).catch((e: unknown) => e);
    await until(() => reached === 1, 2000, "the command to reach the plug");
    (plug.client.stream as { destroy(): void }).destroy();
    plug.client.end(true);
    const failure = await pending;
    expect(failure).toBeInstanceOf(SessionAbortError);
    expect((failure as Error).message).toMatch(/device "plug" went offline/);
    const now = await ctl.manager.request("plug", { command: "on" }).catch((e: unknown) => e);
    expect((now as SessionChannelError).code).toBe("OFFLINE");
  });
});

describe.skipIf(mosquittoMissing !== undefined)("persistent sessions (clean: false)", () => {
  test("a network cut with the session kept: nothing is re-subscribed, what was in flight is answered", async () => {
    const broker = await privateMosquitto();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1", { client: v5 });
    lamp.manager.handle(async (m) => {
      await sleep(300);
      return { n: m.n };
    });
    const clientId = `psession-ctl-${Date.now()}`;
    const ctl = await controller(broker.url, base, {
      client: { ...v5, clientId, clean: false, properties: { sessionExpiryInterval: 60 } },
    });
    await ctl.mqtt.whenReady();
    const subscribes: string[] = [];
    ctl.client.on("packetsend", (packet) => {
      if (packet.cmd === "subscribe") subscribes.push(packet.cmd);
    });
    // No retries: with the session kept, the broker queues the answers while the controller is away.
    const pending = [1, 2, 3].map((n) => ctl.manager.request("lamp-1", { n }, { timeout: 5000 }));
    await sleep(50);
    (ctl.client.stream as { destroy(): void }).destroy();
    const replies = await Promise.all(pending);
    expect(replies.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(subscribes).toEqual([]);
    expect(ctl.mqtt.ready).toBe(true);
  });

  test("a broker that lost the session (restarted): the subscriptions are made again before anything is sent", async () => {
    const broker = await privateMosquitto();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1", { client: v5 });
    lamp.manager.handle((m) => ({ n: m.n }));
    const clientId = `psession-ctl-${Date.now()}`;
    const ctl = await controller(broker.url, base, {
      client: { ...v5, clientId, clean: false, properties: { sessionExpiryInterval: 60 } },
    });
    expect(await ctl.manager.request("lamp-1", { n: 1 })).toMatchObject({ n: 1 });
    const sent: string[] = [];
    ctl.client.on("packetsend", (packet) => void sent.push(packet.cmd));
    await broker.stop(); // persistence false: the session is gone with it
    await broker.start();
    // Sent while the controller reconnects: it waits for the new SUBACK. (Retries: the device may
    // not have re-subscribed yet when the first attempt goes out.)
    expect(await ctl.manager.request("lamp-1", { n: 2 }, { timeout: 1000, retryCount: 5 })).toMatchObject({ n: 2 });
    const subscribeAt = sent.indexOf("subscribe");
    expect(subscribeAt).toBeGreaterThanOrEqual(0);
    expect(sent.indexOf("publish")).toBeGreaterThan(subscribeAt);
  });
});

describe.skipIf(mosquittoMissing !== undefined)("mosquitto restart (a private broker)", () => {
  test("sessions with retries complete after the broker restarts, each handler once; the others fail typed", async () => {
    const broker = await privateMosquitto();
    const base = root();
    const runs = new Map<number, number>();
    const lamp = await device(broker.url, base, "lamp-1", { client: v5 });
    lamp.manager.handle(async (m) => {
      runs.set(m.n, (runs.get(m.n) ?? 0) + 1);
      await sleep(150);
      return { n: m.n };
    });
    const ctl = await controller(broker.url, base, { client: v5 });
    await ctl.mqtt.whenReady();
    const withRetries = Array.from({ length: 10 }, (_, n) =>
      ctl.manager.request("lamp-1", { n }, { timeout: 2000, retryCount: 5, retryInterval: 100 }),
    );
    const without = Array.from({ length: 5 }, (_, i) =>
      ctl.manager.request("lamp-1", { n: 100 + i }, { timeout: 10_000 }).catch((e: unknown) => e),
    );
    await until(() => runs.size === 15, 2000, "every request to reach the device");
    await broker.stop();
    for (const f of await Promise.all(without)) expect(f).toBeInstanceOf(SessionAbortError);
    await sleep(200);
    await broker.start();
    const replies = await Promise.all(withRetries);
    for (const [n, r] of replies.entries()) expect(r).toMatchObject({ n });
    for (const [n, count] of runs) expect({ n, count }).toEqual({ n, count: 1 });
    expect(await ctl.manager.request("lamp-1", { n: 500 })).toMatchObject({ n: 500 });
  });
});
