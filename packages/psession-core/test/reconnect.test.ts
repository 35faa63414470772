import { afterEach, expect, test } from "vitest";
import { SessionAbortError, SessionManager, attach, createMemoryTransportPair } from "psession";
import { delay, settle } from "./helpers.js";

let managers: SessionManager[] = [];
afterEach(() => {
  for (const m of managers) m.clear();
  managers = [];
});

test("a transport closing destroys its port and aborts pending sessions at once", async () => {
  const [a, b] = createMemoryTransportPair();
  const client = new SessionManager({ sessionTimeout: 60_000 });
  const server = new SessionManager();
  managers.push(client, server);
  const port = attach(client, a, { port: "srv", role: "client" });
  attach(server, b, { role: "server" });
  server.handle(() => new Promise(() => {}));
  const pending = [settle(port.request({ q: 1 })), settle(port.request({ q: 2 }))];
  await delay(5);
  const started = Date.now();
  b.close(new Error("peer went away"));
  for (const r of await Promise.all(pending)) {
    expect(r).toBeInstanceOf(SessionAbortError);
    expect((r as Error).message).toMatch(/connection closed/);
  }
  expect(Date.now() - started).toBeLessThan(50);
  expect(client.ports.has("srv")).toBe(false);
});

test("reconnect: a send with retries left re-sends on the re-attached transport and completes", async () => {
  const client = new SessionManager({ sessionTimeout: 10_000 });
  const server = new SessionManager();
  managers.push(client, server);
  let runs = 0;
  server.handle((m) => ({ ok: m.q, run: ++runs }));

  // First connection: the server never sees the request (we close before it is delivered).
  const [a1, b1] = createMemoryTransportPair();
  const port = attach(client, a1, { port: "srv", role: "client", reconnect: true });
  const withRetries = port.request({ q: "status" }, { retryCount: 5, retryInterval: 30 });
  const withoutRetries = settle(port.request({ q: "no-retry" }));
  a1.close(new Error("wifi dropped"));
  expect(await withoutRetries).toBeInstanceOf(SessionAbortError);
  expect(client.ports.get("srv")).toBe(port);
  expect(port.attached).toBe(false);
  void b1;

  // The client reconnects and re-attaches under the same port name.
  const [a2, b2] = createMemoryTransportPair();
  attach(server, b2, { role: "server" });
  expect(attach(client, a2, { port: "srv", role: "client", reconnect: true })).toBe(port);
  expect(await withRetries).toMatchObject({ ok: "status", run: 1 });
  a2.close();
});

test("attach() re-binding a port moves its traffic to the new transport", async () => {
  const client = new SessionManager();
  const server = new SessionManager();
  managers.push(client, server);
  server.handle(() => ({ ok: true }));
  const [a1, b1] = createMemoryTransportPair();
  attach(server, b1, { role: "server" });
  attach(client, a1, { role: "client" });
  const [a2, b2] = createMemoryTransportPair();
  const server2 = new SessionManager();
  managers.push(server2);
  server2.handle(() => ({ ok: "second" }));
  attach(server2, b2, { role: "server" });
  attach(client, a2, { role: "client" });
  // The old transport closing no longer affects the re-bound port.
  a1.close();
  expect(await client.request({})).toMatchObject({ ok: "second" });
  a2.close();
});
