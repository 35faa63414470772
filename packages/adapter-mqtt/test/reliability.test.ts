// Duplicates, retries, network cuts and devices going offline, over the embedded aedes broker.
import { SessionAbortError, SessionChannelError, SessionError } from "psession";
import { describe, expect, test } from "vitest";
import { aedesBroker, client, controller, device, root, sleep, until } from "./fixtures.js";

describe("reliability over aedes", () => {
  test("a duplicated request runs the handler once; the duplicate gets the cached reply", async () => {
    const broker = await aedesBroker();
    const base = root();
    let runs = 0;
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(() => ({ toggled: ++runs }));
    const spy = await client(broker.url);
    const requests: Buffer[] = [];
    const replies: string[] = [];
    spy.on("message", (topic, payload) => {
      if (topic.endsWith("/in")) requests.push(Buffer.from(payload));
      else replies.push(payload.toString());
    });
    await spy.subscribeAsync([`${base}/lamp-1/in`, `${base}/lamp-1/out`], { qos: 1 });
    const ctl = await controller(broker.url, base);
    expect(await ctl.manager.request("lamp-1", { command: "toggle" }, { retryCount: 2 })).toMatchObject({ toggled: 1 });
    await until(() => requests.length === 1 && replies.length === 1, 2000, "the spy to see the exchange");
    // What a QoS 1 redelivery does: the same request, again.
    await spy.publishAsync(`${base}/lamp-1/in`, requests[0]!, { qos: 1 });
    await until(() => replies.length === 2, 2000, "the replayed reply");
    expect(runs).toBe(1);
    expect(JSON.parse(replies[1]!)).toEqual(JSON.parse(replies[0]!));
    // The controller had its answer already: the copy is reported as a late reply, nothing more.
    await until(() => ctl.errors.length === 1, 2000, "the late reply report");
    expect(ctl.errors[0]!.message).toMatch(/late|duplicate|no session/);
  });

  test("QoS 1 duplicates of a request sent without retries run the handler once too", async () => {
    const broker = await aedesBroker();
    const base = root();
    let runs = 0;
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(() => ({ toggled: ++runs }));
    const spy = await client(broker.url);
    const requests: Buffer[] = [];
    spy.on("message", (_topic, payload) => void requests.push(Buffer.from(payload)));
    await spy.subscribeAsync(`${base}/lamp-1/in`, { qos: 1 });
    const ctl = await controller(broker.url, base);
    expect(await ctl.manager.request("lamp-1", { command: "toggle" })).toMatchObject({ toggled: 1 });
    await until(() => requests.length === 1, 2000, "the spy to see the request");
    for (let i = 0; i < 3; i++) await spy.publishAsync(`${base}/lamp-1/in`, requests[0]!, { qos: 1 });
    await sleep(200);
    expect(runs).toBe(1);
    expect(lamp.errors).toEqual([]);
  });

  test("a retry after a slow answer runs the handler once", async () => {
    const broker = await aedesBroker();
    const base = root();
    let runs = 0;
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(async () => {
      runs++;
      await sleep(250);
      return { done: true };
    });
    const ctl = await controller(broker.url, base);
    expect(await ctl.manager.request("lamp-1", { command: "toggle" }, { timeout: 100, retryCount: 30 })).toMatchObject({
      done: true,
    });
    await sleep(100);
    expect(runs).toBe(1);
  });

  test("a network cut: sessions with retries complete after the reconnect, once; the others fail typed, at once", async () => {
    const broker = await aedesBroker();
    const base = root();
    const runs = new Map<number, number>();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(async (m) => {
      runs.set(m.n, (runs.get(m.n) ?? 0) + 1);
      await sleep(200);
      return { n: m.n };
    });
    const ctl = await controller(broker.url, base);
    await ctl.mqtt.whenReady();
    const withRetries = Array.from({ length: 10 }, (_, n) =>
      ctl.manager.request("lamp-1", { n }, { timeout: 1500, retryCount: 3, retryInterval: 50 }),
    );
    const without = Array.from({ length: 10 }, (_, i) =>
      ctl.manager.request("lamp-1", { n: 100 + i }, { timeout: 10_000 }).then(
        (reply) => reply,
        (error: unknown) => error,
      ),
    );
    await until(() => runs.size === 20, 2000, "every request to reach the device");
    const cutAt = Date.now();
    broker.cut();
    const failed = await Promise.all(without);
    for (const f of failed) expect(f).toBeInstanceOf(SessionAbortError);
    expect(Date.now() - cutAt).toBeLessThan(5000); // at once, not at the 10 s timeout
    const replies = await Promise.all(withRetries);
    for (const [n, r] of replies.entries()) expect(r).toMatchObject({ n });
    await sleep(300);
    for (const [n, count] of runs) expect({ n, count }).toEqual({ n, count: 1 });
    // And the link works as before.
    expect(await ctl.manager.request("lamp-1", { n: 999 })).toMatchObject({ n: 999 });
  });

  test("a device that goes offline fails its pending sessions at once; sends to it fail OFFLINE until it is back", async () => {
    const broker = await aedesBroker();
    const base = root();
    let reached = 0;
    const plug = await device(broker.url, base, "plug", { withStatus: true });
    plug.manager.handle(() => {
      reached++;
      return new Promise(() => {}); // never answers: it is about to lose power
    });
    const ctl = await controller(broker.url, base, { status: `${base}/{port}/status` });
    const pending = [1, 2, 3].map((n) =>
      ctl.manager.request("plug", { n }, { timeout: 10_000 }).catch((e: unknown) => e),
    );
    await until(() => reached === 3, 2000, "the commands to reach the plug");
    const offAt = Date.now();
    plug.client.end(true); // no DISCONNECT: the broker publishes the Last Will
    const failures = await Promise.all(pending);
    expect(Date.now() - offAt).toBeLessThan(5000);
    for (const f of failures) {
      expect(f).toBeInstanceOf(SessionAbortError);
      expect((f as Error).message).toMatch(/"plug"/);
      expect((f as Error).message).toMatch(/offline/);
    }
    expect(ctl.mqtt.isOffline("plug")).toBe(true);
    const now = await ctl.manager.request("plug", { n: 4 }, { timeout: 10_000 }).catch((e: unknown) => e);
    expect(now).toBeInstanceOf(SessionChannelError);
    expect((now as SessionChannelError).code).toBe("OFFLINE");

    // Power back: a new connection publishes "online".
    const again = await device(broker.url, base, "plug", { withStatus: true });
    again.manager.handle(() => ({ on: true }));
    await until(() => !ctl.mqtt.isOffline("plug"), 2000, "the plug to be online");
    expect(await ctl.manager.request("plug", { n: 5 })).toMatchObject({ on: true });
  });

  test("a controller that starts after a device went offline knows it from the retained status", async () => {
    const broker = await aedesBroker();
    const base = root();
    const plug = await device(broker.url, base, "plug", { withStatus: true });
    await plug.mqtt.whenReady();
    await plug.mqtt.close(); // a clean goodbye publishes "offline" too
    const ctl = await controller(broker.url, base, { status: `${base}/{port}/status` });
    await ctl.mqtt.whenReady();
    await until(() => ctl.mqtt.isOffline("plug"), 2000, "the retained offline status");
    const failure = await ctl.manager.request("plug", { n: 1 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionChannelError);
    expect((failure as SessionChannelError).code).toBe("OFFLINE");
  });

  test("the in-flight window holds back turns beyond it and loses none", async () => {
    const broker = await aedesBroker();
    const base = root();
    let working = 0;
    let most = 0;
    for (const name of ["a", "b", "c", "d"]) {
      const d = await device(broker.url, base, name);
      d.manager.handle(async (m) => {
        most = Math.max(most, ++working);
        await sleep(2);
        working--;
        return { n: m.n };
      });
    }
    const ctl = await controller(broker.url, base, { window: 16 });
    const replies = await Promise.all(
      Array.from({ length: 400 }, (_, n) => ctl.manager.request("abcd"[n % 4]!, { n })),
    );
    for (const [n, r] of replies.entries()) expect(r.n).toBe(n);
    expect(most).toBeLessThanOrEqual(16);
    expect(most).toBeGreaterThan(1);
    expect(ctl.errors).toEqual([]);
  });

  test("client.end(): what is in flight fails at once, later sends fail NOT_OPEN at once", async () => {
    const broker = await aedesBroker();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(() => new Promise(() => {}));
    const ctl = await controller(broker.url, base);
    const pending = ctl.manager.request("lamp-1", { n: 1 }, { timeout: 10_000 }).catch((e: unknown) => e);
    await sleep(50);
    const endedAt = Date.now();
    await ctl.client.endAsync();
    expect(await pending).toBeInstanceOf(SessionAbortError);
    const after = await ctl.manager.request("lamp-1", { n: 2 }, { timeout: 10_000 }).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(SessionChannelError);
    expect((after as SessionChannelError).code).toBe("NOT_OPEN");
    expect(Date.now() - endedAt).toBeLessThan(5000);
  });

  test("closing the attachment aborts pending sessions and stops sends", async () => {
    const broker = await aedesBroker();
    const base = root();
    const lamp = await device(broker.url, base, "lamp-1");
    lamp.manager.handle(() => new Promise(() => {}));
    const ctl = await controller(broker.url, base);
    const pending = ctl.manager.request("lamp-1", { n: 1 }, { timeout: 10_000 }).catch((e: unknown) => e);
    await sleep(50);
    await ctl.mqtt.close();
    const failure = await pending;
    expect(failure).toBeInstanceOf(SessionAbortError);
    const after = await ctl.manager.request("lamp-1", { n: 2 }).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(SessionError);
    expect(ctl.client.connected).toBe(true);
  });
});
