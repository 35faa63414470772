// 2,000 concurrent sessions over 20 real connections, initiated from both ends at once.
import { attach, whenOpen } from "@psession/ws";
import type { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { manager, socket, startServer, teardown, sleep } from "./helpers.js";

afterEach(teardown);

test("2,000 concurrent sessions over 20 connections, both directions, including multi-turn", async () => {
  const CONNECTIONS = 20;
  const PER_SIDE = 50; // per connection and direction: 20 × 50 × 2 = 2,000
  const { wss, url } = await startServer();
  const server = manager();
  const handle = attach<WebSocket>(server, wss);
  server.handle(async (m, session) => {
    await sleep(m.n % 7);
    if (m.n % 10 === 0) {
      // Every tenth is a two-turn dialogue.
      const more = await session.send({ need: "factor" });
      return { from: "server", c: m.c, n: m.n * more.factor };
    }
    return { from: "server", c: m.c, n: m.n };
  });

  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, c) => {
      const m = manager();
      m.handle(async (msg) => {
        await sleep(msg.n % 5);
        return { from: "client", c, n: msg.n };
      });
      const ws = socket(url);
      const port = attach(m, ws);
      await whenOpen(ws);
      return { m, port };
    }),
  );
  while (handle.ports.size < CONNECTIONS) await sleep(5);
  const serverPorts = [...handle.ports.values()];
  expect(new Set(serverPorts.map((p) => p.name)).size).toBe(CONNECTIONS);

  const calls: Promise<void>[] = [];
  clients.forEach(({ m, port }, c) => {
    for (let n = 0; n < PER_SIDE; n++) {
      if (n % 10 === 0) {
        const s = m.createSession(port);
        calls.push(
          s.send({ c, n }).then(async (first) => {
            expect(first.need).toBe("factor");
            const r = await s.send({ factor: 3 });
            s.end();
            expect(r).toMatchObject({ from: "server", c, n: n * 3 });
          }),
        );
      } else {
        calls.push(port.request({ c, n }).then((r) => expect(r).toMatchObject({ from: "server", c, n })));
      }
    }
  });
  // Which client answered each server port: must be one client per port, a different one each.
  const answeredBy = serverPorts.map(() => new Set<number>());
  serverPorts.forEach((port, i) => {
    for (let n = 0; n < PER_SIDE; n++) {
      calls.push(
        port.request({ n }).then((r) => {
          expect(r.from).toBe("client");
          expect(r.n).toBe(n);
          answeredBy[i]!.add(r.c);
        }),
      );
    }
  });
  expect(calls).toHaveLength(2000);
  await Promise.all(calls);

  for (const set of answeredBy) expect(set.size).toBe(1);
  expect(new Set(answeredBy.map((set) => [...set][0])).size).toBe(CONNECTIONS);
  expect(server.size).toBe(0);
  for (const { m } of clients) {
    expect(m.size).toBe(0);
    expect(m.errors).toEqual([]);
  }
  expect(server.errors).toEqual([]);
});
