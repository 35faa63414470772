// Issue 8 item 6 on the in-memory pair (a paused end is a peer that stops reading); over real ws
// and net sockets with the server in its own process, see those adapters' suites.
import { afterEach, expect, test } from "vitest";
import { SessionAbortError, SessionChannelError, SessionManager, attach, createMemoryTransportPair } from "psession";
import { delay, settle } from "./helpers.js";

let managers: SessionManager[] = [];
afterEach(() => {
  for (const m of managers) m.clear();
  managers = [];
});

function pair(options: { highWaterMark: number; backpressureTimeout?: number }) {
  const [clientEnd, serverEnd] = createMemoryTransportPair();
  const client = new SessionManager({ sessionTimeout: 5000 });
  const server = new SessionManager();
  managers.push(client, server);
  const errors: Error[] = [];
  server.on("error", (e) => void errors.push(e));
  client.on("error", () => {});
  const clientPort = attach(client, clientEnd);
  const serverPort = attach(server, serverEnd, { ...options, port: "client" });
  return { client, server, clientEnd, serverEnd, clientPort, serverPort, errors };
}

test("a client that never reads: the server stops reading from it at the mark, queues no more, and serves it again once it reads", async () => {
  const p = pair({ highWaterMark: 100 });
  let handled = 0;
  p.server.handle((m) => ({ n: m.n, pad: "x".repeat(2048), run: ++handled }));
  p.clientEnd.pause(); // the client stops reading the server's answers
  const requests = Array.from({ length: 5000 }, (_, n) => settle(p.clientPort.request({ n })));
  await delay(50);
  // The server answered up to its mark (plus the batch in hand), then stopped reading requests.
  expect(p.serverPort.toJSON().attached).toBe(true);
  expect(p.serverEnd.bufferedAmount).toBeGreaterThan(100);
  expect(p.serverEnd.bufferedAmount).toBeLessThan(5000);
  const answeredWhileBlocked = handled;
  await delay(50);
  expect(handled).toBe(answeredWhileBlocked); // nothing more is read, nothing more is queued
  // The client reads again: everything is answered, each once.
  p.clientEnd.resume();
  const replies = await Promise.all(requests);
  expect(replies.every((r) => !(r instanceof Error))).toBe(true);
  expect(handled).toBe(5000);
});

test("local sends toward a peer over the mark fail at once with SessionChannelError BACKPRESSURE", async () => {
  const p = pair({ highWaterMark: 10 });
  p.serverEnd.pause(); // the server stops reading: what the client sends piles up
  const client = new SessionManager();
  managers.push(client);
  const [a, b] = createMemoryTransportPair();
  const port = attach(client, a, { highWaterMark: 10 });
  b.pause();
  const sent: Promise<unknown>[] = [];
  for (let n = 0; n < 11; n++) sent.push(settle(port.request({ n }, { timeout: 1000 })));
  const refused = await settle(port.request({ n: 99 }));
  expect(refused).toBeInstanceOf(SessionChannelError);
  expect((refused as SessionChannelError).code).toBe("BACKPRESSURE");
  const session = client.createSession(port.name);
  expect(() => session.post({ loop: 1 })).toThrow(SessionChannelError);
  session.end();
  b.resume();
  await delay(5);
  // Drained: sending works again.
  const ok = client.createSession(port.name);
  expect(() => ok.post({ again: 1 })).not.toThrow();
  ok.end();
  void sent;
});

test("a peer that stays blocked past backpressureTimeout is disconnected; its sessions end with a typed error", async () => {
  const p = pair({ highWaterMark: 10, backpressureTimeout: 80 });
  p.server.handle(() => new Promise(() => {})); // work that never ends, to be aborted
  let pending = 0;
  p.server.on("session:create", () => void pending++);
  p.clientEnd.pause();
  // Fill the server's queue toward the client with answers from a second handler kind.
  p.server.handle((m) => (m.slow ? new Promise(() => {}) : { pad: "x" }));
  const slow = settle(p.clientPort.request({ slow: true }));
  for (let n = 0; n < 40; n++) void settle(p.clientPort.request({ n }));
  await delay(200);
  const error = p.errors.find((e) => e instanceof SessionChannelError && e.code === "BACKPRESSURE");
  expect(error?.message).toMatch(/read nothing for 80 ms/);
  expect(p.serverPort.destroyed).toBe(true);
  expect(p.server.size).toBe(0);
  expect(await slow).toBeInstanceOf(SessionAbortError);
  expect(pending).toBeGreaterThan(0);
});
