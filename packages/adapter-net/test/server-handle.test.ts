// The server handle, the same as every adapter's: `{ ports, portOf, close(options?) }`, portName,
// supersede (issue 15 item 13), port-hijack refusals, and one socket attached once.
import net from "node:net";
import { attach, type NetServerAttachOptions } from "@psession/net";
import { SessionAbortError, type SessionChannelError, SessionInvalidError, SessionManager } from "psession";
import { expect, test } from "vitest";
import { track } from "./cleanup.js";
import { closedOf, connected, listen, sleep, until } from "./helpers.js";

function manager() {
  const m = track(new SessionManager({ sessionTimeout: 5000 }));
  const errors: Error[] = [];
  m.on("error", (e) => void errors.push(e));
  return { m, errors };
}

async function psessionServer(options: NetServerAttachOptions = {}) {
  const { m, errors } = manager();
  const srv = track(net.createServer());
  const handle = attach(m, srv, options);
  const { connect } = await listen("tcp", srv);
  return { m, errors, handle, connect: () => track(connect()) };
}

test("a second connection under a live connection's name takes the port over; the first is closed, not left open and unwatched", async () => {
  const { m, errors, handle, connect } = await psessionServer({ portName: () => "kiosk" });
  m.handle((msg) => ({ n: msg.n }));
  const a = connect();
  const clientA = manager();
  clientA.m.handle(() => ({ who: "a" }));
  attach(clientA.m, a);
  await until(() => handle.ports.size === 1);
  const port = m.ports.get("kiosk")!;
  const [aServerSide] = [...handle.ports.keys()];

  const b = connect();
  const clientB = manager();
  clientB.m.handle(() => ({ who: "b" }));
  const portB = attach(clientB.m, b);
  await closedOf(aServerSide!);
  await closedOf(a);
  expect(m.ports.get("kiosk")).toBe(port);
  expect([...handle.ports.values()]).toEqual([port]);
  expect(handle.portOf(aServerSide!)).toBeUndefined();
  expect(await portB.request({ n: 3 })).toMatchObject({ n: 3 });
  expect(await port.request({})).toMatchObject({ who: "b" }); // the server's port now reaches b
  expect(errors).toEqual([]);
});

test("fifty connections under one name: one live connection, one port, one transport on its socket", async () => {
  const { m, handle, connect } = await psessionServer({ portName: () => "same" });
  m.handle(() => ({ ok: true }));
  const sockets = Array.from({ length: 50 }, () => connect());
  await Promise.all(sockets.map((s) => connected(s).catch(() => {})));
  await until(() => sockets.filter((s) => !s.destroyed).length === 1 && handle.ports.size === 1);
  const [live] = [...handle.ports.keys()];
  expect(live!.listenerCount("data")).toBe(1);
  const client = manager();
  const survivor = sockets.find((s) => !s.destroyed)!;
  expect(await attach(client.m, survivor).request({})).toMatchObject({ ok: true });
});

test("attaching one socket twice throws, naming where it is attached, and stacks no second transport", async () => {
  const { m } = await psessionServer();
  m.handle(() => ({ ok: true }));
  const srv = track(net.createServer());
  const { connect } = await listen("tcp", srv);
  const socket = track(connect());
  const client = manager();
  const port = attach(client.m, socket, { port: "one" });
  const listeners = socket.listenerCount("data");
  for (let i = 0; i < 50; i++) {
    expect(() => attach(client.m, socket, { port: `again-${i}` })).toThrow(SessionInvalidError);
  }
  expect(() => attach(manager().m, socket)).toThrow(/already attached to port "one" of another manager/);
  expect(socket.listenerCount("data")).toBe(listeners);
  expect(client.m.ports.has("again-0")).toBe(false);
  expect(port.attached).toBe(true);
});

test.each([
  ["the manager's default port", "default", (_m: SessionManager) => {}],
  ["a createPort() port", "mine", (m: SessionManager) => void m.createPort("mine")],
])("a portName naming %s refuses the connection (port hijack), reported", async (_what, name, prepare) => {
  const { m } = manager();
  prepare(m);
  const errors: Error[] = [];
  m.on("error", (e) => void errors.push(e));
  const srv = track(net.createServer());
  const handle = attach(m, srv, { portName: () => name });
  const { connect } = await listen("tcp", srv);
  const socket = track(connect());
  await closedOf(socket);
  expect(handle.ports.size).toBe(0);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.message).toMatch(
    new RegExp(`@psession/net: connection refused: port "${name}" exists but was not made by this server`),
  );
});

test("close() destroys the connections' ports and leaves the sockets open; closeConnections ends them too", async () => {
  const { m, handle, connect } = await psessionServer();
  const client = manager();
  client.m.handle(() => new Promise(() => {}));
  const socket = connect();
  attach(client.m, socket);
  await until(() => handle.ports.size === 1);
  const [serverSide, port] = [...handle.ports][0]!;
  const pending = port.request({ x: 1 }, { timeout: 60_000 }).catch((e: unknown) => e);
  await until(() => client.m.size === 1);
  handle.close();
  expect(await pending).toBeInstanceOf(SessionAbortError);
  expect(port.destroyed).toBe(true);
  await sleep(20);
  expect(serverSide.destroyed).toBe(false);
  expect(m.ports.size).toBe(1);

  const other = await psessionServer();
  const s2 = other.connect();
  await until(() => other.handle.ports.size === 1);
  other.handle.close({ closeConnections: true });
  await closedOf(s2);
  expect(other.handle.ports.size).toBe(0);
});

test("what a connection's transport reports carries that connection's port", async () => {
  const reported: [string, string | undefined][] = [];
  const { m } = manager();
  m.on("error", (e, port) => void reported.push([(e as SessionChannelError).code ?? e.message, port?.name]));
  const srv = track(net.createServer());
  attach(m, srv, { portName: (socket) => (socket.remotePort! % 2 === 0 ? "even" : "odd") });
  const { connect } = await listen("tcp", srv);
  const socket = track(connect());
  await connected(socket);
  socket.write("not json\n");
  await until(() => reported.length === 1);
  expect(reported[0]![0]).toBe("DECODE_FAILED");
  expect(reported[0]![1]).toBe(socket.localPort! % 2 === 0 ? "even" : "odd");
});
