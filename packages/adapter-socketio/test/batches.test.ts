// Batches: messages sent in one tick leave as one "psession" event carrying an array, but only
// toward a peer whose hello said it reads them ($batch: 1). Hand-written peers and older psession
// peers never get one.
import { attach } from "@psession/socketio";
import { afterEach, describe, expect, test } from "vitest";
import { client, manager, startServer, teardown, TRANSPORTS, until, whenConnected } from "./helpers.js";

afterEach(teardown);

for (const transport of TRANSPORTS) {
  describe(`over ${transport}`, () => {
    test("200 requests in one tick travel as a few events each way, every one answered", async () => {
      const server = await startServer();
      const { manager: sm, errors: se } = manager();
      const { manager: cm, errors: ce } = manager();
      const handle = attach(sm, server.io);
      sm.handle((m) => ({ n: m.n * 2 }));
      const socket = client(server.url, { transports: [transport], auth: { id: "c" } });
      const port = attach(cm, socket);
      await whenConnected(socket);
      await until(() => handle.ports.size === 1);
      expect(await port.request({ n: 0 })).toMatchObject({ n: 0 }); // both hellos are in
      // Count the events on the wire, beside psession's own listeners.
      const serverSocket = [...handle.ports.keys()][0]!;
      const inbound: unknown[] = [];
      const outbound: unknown[] = [];
      serverSocket.on("psession", (frame: unknown) => void inbound.push(frame));
      socket.on("psession", (frame: unknown) => void outbound.push(frame));
      const replies = await Promise.all(Array.from({ length: 200 }, (_, n) => port.request({ n })));
      expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, n) => n * 2));
      const count = (events: unknown[]) =>
        events.reduce<number>((sum, e) => sum + (Array.isArray(e) ? e.length : 1), 0);
      expect(count(inbound)).toBe(200);
      expect(count(outbound)).toBe(200);
      expect(inbound.length).toBeLessThan(10);
      expect(outbound.length).toBeLessThan(20);
      expect(se).toEqual([]);
      expect(ce).toEqual([]);
    });
  });
}

describe("who gets batches", () => {
  test("a hand-written client (no hello) gets one message per event, even when the server sends 50 at once", async () => {
    const server = await startServer();
    const { manager: sm, errors } = manager();
    const handle = attach(sm, server.io);
    const raw = client(server.url, { auth: { id: "firmware" } });
    const events: unknown[] = [];
    raw.on("psession", (m: { sid?: number; n?: number }) => {
      events.push(m);
      if (typeof m.sid === "number") raw.emit("psession", { sid: m.sid, echo: m.n });
    });
    await whenConnected(raw);
    await until(() => handle.ports.size === 1);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, n) => sm.request("firmware", { n })));
    expect(replies.map((r) => r.echo)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(events.filter((e) => Array.isArray(e))).toEqual([]);
    expect(events).toHaveLength(51); // the server's hello and 50 requests
    expect(errors).toEqual([]);
  });

  test("an older psession peer (a hello without $batch) gets no batches either", async () => {
    const server = await startServer();
    const { manager: sm, errors } = manager();
    const handle = attach(sm, server.io);
    sm.handle((m) => ({ n: m.n }));
    const raw = client(server.url, { auth: { id: "old" } });
    const events: unknown[] = [];
    raw.on("psession", (m: unknown) => void events.push(m));
    await whenConnected(raw);
    await until(() => handle.ports.size === 1);
    raw.emit("psession", { $hello: "old-peer" });
    for (let i = 1; i <= 40; i += 2) raw.emit("psession", { sid: i, $turn: i, n: i });
    await until(() => events.length >= 21, 2000, "20 answers and the hello");
    expect(events.filter((e) => Array.isArray(e))).toEqual([]);
    expect(events.filter((e) => (e as { n?: number }).n !== undefined)).toHaveLength(20);
    expect(errors).toEqual([]);
  });

  test("a frame of a quarter of the batch bound or more leaves alone, in order with the batched ones", async () => {
    const server = await startServer();
    const { manager: sm, errors } = manager();
    const handle = attach(sm, server.io);
    const order: number[] = [];
    sm.handle((m) => {
      order.push(m.i);
      return {};
    });
    const { manager: cm } = manager();
    const socket = client(server.url, { auth: { id: "big" } });
    const port = attach(cm, socket);
    await whenConnected(socket);
    await until(() => handle.ports.size === 1);
    await port.request({ i: -1 });
    const serverSocket = [...handle.ports.keys()][0]!;
    const events: unknown[] = [];
    serverSocket.on("psession", (frame: unknown) => void events.push(frame));
    const big = "x".repeat(20 * 1024);
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => port.request(i === 3 ? { i, big } : { i })));
    expect(order.slice(1)).toEqual([0, 1, 2, 3, 4, 5]);
    // [0, 1, 2] as a batch, 3 alone, [4, 5] as a batch.
    expect(events.map((e) => (Array.isArray(e) ? e.map((m) => m.i) : (e as { i: number }).i))).toEqual([
      [0, 1, 2],
      3,
      [4, 5],
    ]);
    expect(errors).toEqual([]);
  });
});
