// attachConnections, the one "every connection is its own port" helper, over a server of real
// in-memory transport pairs: naming, refusals (port hijack), supersede, reconnect parking, hand-over,
// close() with and without closeConnections, and the hint for "no transport attached" errors.
import { EventEmitter } from "node:events";
import {
  attach,
  attachConnections,
  createMemoryTransportPair,
  describeConnectionPorts,
  heartbeatSettings,
  maxFrameBytesSetting,
  SessionAbortError,
  SessionChannelError,
  type SessionError,
  SessionManager,
  type ConnectionPortsOptions,
  type EndReason,
  type AttachOptions,
  type MemoryTransport,
} from "psession";
import { afterEach, describe, expect, test } from "vitest";

type Connection = MemoryTransport;
interface Info {
  id: string;
}

const managers: SessionManager[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.clear();
});

function manager(): SessionManager & { errors: Error[] } {
  const m = new SessionManager({ sessionTimeout: 5000 }) as SessionManager & { errors: Error[] };
  m.errors = [];
  m.on("error", (e) => void m.errors.push(e));
  managers.push(m);
  return m;
}

/** A "server" whose connections are the server ends of in-memory pairs. */
function memoryServer(server: SessionManager, options: ConnectionPortsOptions<Connection, Info> = {}) {
  const hub = new EventEmitter();
  const ended: [Connection, EndReason, SessionError][] = [];
  let n = 0;
  const handle = attachConnections<Connection, Info, Connection>(
    server,
    {
      label: "memory",
      listen(accept) {
        hub.on("connection", accept);
        return () => void hub.off("connection", accept);
      },
      defaultName: () => `peer-${++n}`,
      transport: (connection) => connection,
      end(connection, why, reason) {
        ended.push([connection, why, reason]);
        connection.close(reason);
      },
    },
    options,
  );
  /** A client manager connected to the server; `id` is the info the server's portName sees. */
  const connect = (id = "anonymous", clientManager = manager(), clientOptions: AttachOptions = {}) => {
    const [clientEnd, serverEnd] = createMemoryTransportPair();
    const port = attach(clientManager, clientEnd, { ...clientOptions, port: "server" });
    hub.emit("connection", serverEnd, { id });
    return { client: clientManager, port, clientEnd, serverEnd };
  };
  return { handle, connect, ended, hub };
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("one port per connection", () => {
  test("each connection gets its own port, with the transport's role, that lives as long as the connection", async () => {
    const server = manager();
    server.handle((m, session) => ({ port: session.port, n: m.n }));
    const { handle, connect } = memoryServer(server);
    const a = connect();
    const b = connect();
    expect([...handle.ports.values()].map((p) => p.name)).toEqual(["peer-1", "peer-2"]);
    expect(handle.portOf(a.serverEnd)!.role).toBe("server");
    expect(await a.port.request({ n: 1 })).toMatchObject({ port: "peer-1", n: 1 });
    expect(await b.port.request({ n: 2 })).toMatchObject({ port: "peer-2", n: 2 });
    const portA = handle.portOf(a.serverEnd)!;
    a.clientEnd.close(new Error("gone"));
    await tick();
    expect(portA.destroyed).toBe(true);
    expect(handle.portOf(a.serverEnd)).toBeUndefined();
    expect([...handle.ports.keys()]).toEqual([b.serverEnd]);
    expect(server.errors).toEqual([]);
  });

  test("an explicit role: undefined is honoured", () => {
    const server = manager();
    const { handle, connect } = memoryServer(server, { role: undefined });
    const a = connect();
    expect(handle.portOf(a.serverEnd)!.role).toBeUndefined();
  });

  test("default names are made unique on the manager", () => {
    const server = manager();
    server.createPort("peer-1");
    const { handle, connect } = memoryServer(server);
    connect();
    expect([...handle.ports.values()].map((p) => p.name)).toEqual(["peer-1#2"]);
  });
});

describe("refusals: reported, the connection ended, nothing attached", () => {
  test.each([
    ["the manager's default port", "default", () => {}],
    ["a createPort() port", "mine", (m: SessionManager) => void m.createPort("mine")],
    [
      "another attach()'s port",
      "other",
      (m: SessionManager) => void attach(m, createMemoryTransportPair()[0], { port: "other" }),
    ],
  ])("a portName naming %s (port hijack)", async (_what, name, prepare) => {
    const server = manager();
    prepare(server);
    const before = server.ports.get(name);
    const { handle, connect, ended } = memoryServer(server, { portName: () => name });
    const a = connect();
    expect(handle.ports.size).toBe(0);
    expect(ended.map(([c, why]) => [c, why])).toEqual([[a.serverEnd, "refused"]]);
    expect(a.serverEnd.closed).toBe(true);
    expect(server.errors).toHaveLength(1);
    expect(server.errors[0]!.message).toMatch(
      new RegExp(`connection refused: port "${name}" exists but was not made by this server`),
    );
    expect(server.ports.get(name)).toBe(before); // untouched
  });

  test("a portName that throws or returns no name", () => {
    const server = manager();
    const { handle, connect, ended } = memoryServer(server, {
      portName: (_c, info) => {
        if (info.id === "throws") throw new Error("no id");
        return info.id === "empty" ? "" : info.id;
      },
    });
    connect("throws");
    connect("empty");
    connect("alice");
    expect(ended.map(([, why]) => why)).toEqual(["refused", "refused"]);
    expect(server.errors.map((e) => e.message)).toEqual([
      "memory: connection refused: portName failed (no id)",
      "memory: connection refused: portName returned an empty string",
    ]);
    expect([...handle.ports.values()].map((p) => p.name)).toEqual(["alice"]);
  });

  test("a transport factory that throws refuses that connection only; nothing escapes into the server's emitter", () => {
    const server = manager();
    const hub = new EventEmitter();
    const handle = attachConnections<Connection, Info, Connection>(server, {
      label: "memory",
      listen(accept) {
        hub.on("connection", accept);
        return () => void hub.off("connection", accept);
      },
      defaultName: (_c, info) => info.id,
      transport(connection, info) {
        if (info.id === "bad") throw new RangeError("cannot wrap");
        return connection;
      },
      end: (connection, _why, reason) => connection.close(reason),
    });
    const [, bad] = createMemoryTransportPair();
    const [, good] = createMemoryTransportPair();
    expect(() => hub.emit("connection", bad, { id: "bad" })).not.toThrow();
    hub.emit("connection", good, { id: "good" });
    expect(bad.closed).toBe(true);
    expect(server.errors[0]!.message).toBe("memory: connection refused: cannot wrap");
    expect([...handle.ports.values()].map((p) => p.name)).toEqual(["good"]);
  });

  test("a connection announced twice keeps its one port and transport", () => {
    const server = manager();
    const { handle, connect, hub } = memoryServer(server);
    const a = connect();
    hub.emit("connection", a.serverEnd, { id: "again" });
    expect(handle.ports.size).toBe(1);
    expect(server.ports.size).toBe(2); // "default" and the one port
    expect(server.errors[0]!.message).toMatch(/announced twice/);
  });
});

describe("a name held by a live connection: the newer connection supersedes it", () => {
  test("the port moves to the new connection; the older one is ended with SUPERSEDED", async () => {
    const server = manager();
    const { handle, connect, ended } = memoryServer(server, { portName: (_c, info) => info.id });
    const first = connect("kiosk");
    const port = server.ports.get("kiosk")!;
    const second = connect("kiosk");
    second.client.handle((m) => ({ who: "second", n: m.n }));
    expect(server.ports.get("kiosk")).toBe(port);
    expect(ended.map(([c, why]) => [c, why])).toEqual([[first.serverEnd, "superseded"]]);
    const reason = ended[0]![2];
    expect(reason).toBeInstanceOf(SessionChannelError);
    expect((reason as SessionChannelError).code).toBe("SUPERSEDED");
    expect(first.serverEnd.closed).toBe(true);
    expect([...handle.ports.entries()]).toEqual([[second.serverEnd, port]]);
    expect(await port.request({ n: 1 })).toMatchObject({ who: "second", n: 1 });
    await tick();
    expect(port.destroyed).toBe(false);
    expect(server.errors).toEqual([]);
  });

  test("the port's sessions abort at once ('superseded'): nothing meant for the older peer reaches the newer one, retries left or not", async () => {
    const server = manager();
    const { connect } = memoryServer(server, { portName: (_c, info) => info.id });
    const first = connect("kiosk");
    const firstSeen: unknown[] = [];
    first.clientEnd.onMessage((m) => void firstSeen.push(m));
    first.client.handle(() => new Promise(() => {})); // never answers
    // The server's handler works for the older peer until told to stop.
    let handlerSignal: AbortSignal | undefined;
    server.handle((_m, session) => {
      handlerSignal = session.signal;
      return new Promise(() => {});
    });
    const port = server.ports.get("kiosk")!;
    const started = Date.now();
    const request = port.request({ secret: "for the first peer" }, { timeout: 2000, retryCount: 5, retryInterval: 10 });
    const dialogue = server.createSession(port);
    void first.port.request({ work: 1 }).catch(() => {});
    await tick();
    expect(handlerSignal?.aborted).toBe(false);

    const second = connect("kiosk");
    const secondSeen: unknown[] = [];
    second.clientEnd.onMessage((m) => void secondSeen.push(m));
    const failure = await request.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(SessionAbortError);
    expect((failure as Error).message).toMatch(/superseded/);
    expect(Date.now() - started).toBeLessThan(1000); // at once, not at its timeout
    expect(handlerSignal?.aborted).toBe(true);
    expect(() => dialogue.post({ step: 2 })).toThrow(/ended/);
    expect(port.size).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100)); // past every retry interval
    expect(secondSeen).toEqual([]);
    // Only the request reached the older peer (its cancel notice was in flight when the memory
    // pair closed; real sockets flush it, see the ws and net attack tests).
    expect(firstSeen).toHaveLength(1);
    expect(server.errors).toEqual([]);
  });

  test("a repeat of the older peer's answered turn, sent by the newer peer, is not answered from the replay cache", async () => {
    const server = manager();
    server.handle((m) => ({ secret: `for ${m.who}` }));
    const { connect } = memoryServer(server, { portName: (_c, info) => info.id });
    const first = connect("kiosk");
    expect(await first.port.request({ who: "first" }, { retryCount: 2 })).toMatchObject({ secret: "for first" });
    // The newer peer, raw, repeats that very turn (sid 1, $turn 1, a retry).
    const second = connect("kiosk");
    const seen: Record<string, unknown>[] = [];
    second.clientEnd.onMessage((m) => void seen.push(m as Record<string, unknown>));
    second.clientEnd.send({ sid: 1, $turn: 1, $try: 2, who: "second" });
    await tick();
    expect(seen.map((m) => m.secret)).toEqual(["for second"]);
  });

  test("fifty connections under one name leave one live connection and one port", async () => {
    const server = manager();
    server.handle(() => ({ ok: true }));
    const { handle, connect, ended } = memoryServer(server, { portName: () => "same" });
    const all = Array.from({ length: 50 }, () => connect("x"));
    await tick();
    expect(handle.ports.size).toBe(1);
    expect(ended).toHaveLength(49);
    expect(all.filter((c) => !c.serverEnd.closed)).toEqual([all[49]]);
    expect(await all[49]!.port.request({})).toMatchObject({ ok: true });
  });
});

describe("reconnect and hand-over", () => {
  test("with reconnect, a closed connection parks its port for the next connection under its name", async () => {
    const server = manager();
    const { handle, connect } = memoryServer(server, { reconnect: true, portName: (_c, info) => info.id });
    server.handle(async (m, session) => {
      const more = await session.send({ step: 1 }, { retryCount: 3, retryInterval: 20 });
      return { total: m.base + more.add };
    });
    const client = manager();
    const first = connect("device-7", client, { reconnect: true });
    const port = server.ports.get("device-7")!;
    const dialogue = client.createSession("server");
    expect(await dialogue.send({ base: 40 })).toMatchObject({ step: 1 });
    first.clientEnd.close(new Error("network down"));
    await tick();
    expect(port.attached).toBe(false);
    expect(port.destroyed).toBe(false);
    expect(handle.ports.size).toBe(0);
    expect(describeConnectionPorts(server)).toBe("this manager gives each connection its own port (no connection now)");
    // The same client comes back on a new connection: its own parked port, not a hijack.
    const second = connect("device-7", client, { reconnect: true });
    expect(server.ports.get("device-7")).toBe(port);
    expect(handle.portOf(second.serverEnd)).toBe(port);
    expect(await dialogue.send({ add: 2 })).toMatchObject({ total: 42 });
    dialogue.end();
    expect(server.errors).toEqual([]);
  });

  test("a port the application destroyed hands its connection over: it stays open, no longer psession's", async () => {
    const server = manager();
    const { handle, connect, ended } = memoryServer(server, { portName: (_c, info) => info.id });
    const a = connect("alice");
    const port = handle.portOf(a.serverEnd)!;
    port.destroy();
    await tick();
    expect(a.serverEnd.closed).toBe(false);
    expect(ended).toEqual([]);
    expect(handle.ports.size).toBe(0);
    // The name is free again: a later connection gets a new port, not a refusal.
    const b = connect("alice");
    expect(handle.portOf(b.serverEnd)).not.toBe(port);
    expect(handle.portOf(b.serverEnd)!.name).toBe("alice");
    expect(server.errors).toEqual([]);
  });
});

describe("close()", () => {
  test("detaches psession: ports destroyed (pending sends abort), connections left open, no new ports", async () => {
    const server = manager();
    const { handle, connect, ended, hub } = memoryServer(server);
    const a = connect();
    a.client.handle(() => new Promise(() => {}));
    const port = handle.portOf(a.serverEnd)!;
    const pending = port.request({ x: 1 }).catch((e: unknown) => e);
    await tick();
    handle.close();
    const error = await pending;
    expect(error).toBeInstanceOf(SessionAbortError);
    expect((error as Error).message).toMatch(/detached from the server/);
    expect(port.destroyed).toBe(true);
    expect(a.serverEnd.closed).toBe(false);
    expect(ended).toEqual([]);
    expect(hub.listenerCount("connection")).toBe(0);
    connect();
    expect(handle.ports.size).toBe(0);
    expect(server.ports.size).toBe(1);
    handle.close(); // idempotent
  });

  test("closeConnections also ends every connection psession holds, and parked ports go too", async () => {
    const server = manager();
    const { handle, connect, ended } = memoryServer(server, { reconnect: true, portName: (_c, info) => info.id });
    const a = connect("a");
    const b = connect("b");
    b.clientEnd.close(new Error("gone"));
    await tick();
    const parked = server.ports.get("b")!;
    expect(parked.destroyed).toBe(false);
    handle.close({ closeConnections: true });
    expect(ended.map(([c, why]) => [c, why])).toEqual([[a.serverEnd, "closed"]]);
    expect((ended[0]![2] as SessionChannelError).code).toBe("CLOSED");
    expect(a.serverEnd.closed).toBe(true);
    expect(parked.destroyed).toBe(true);
    expect(server.ports.size).toBe(1);
  });
});

test("describeConnectionPorts names the per-connection ports of a manager, or says there are none", () => {
  const plain = manager();
  expect(describeConnectionPorts(plain)).toBeUndefined();
  const server = manager();
  const { handle, connect } = memoryServer(server, { portName: (_c, info) => info.id });
  expect(describeConnectionPorts(server)).toBe("this manager gives each connection its own port (no connection now)");
  for (const id of ["a", "b", "c"]) connect(id);
  expect(describeConnectionPorts(server)).toBe(
    'this manager gives each connection its own port (3 now: "a", "b", "c")',
  );
  for (const id of ["d", "e", "f", "g"]) connect(id);
  expect(describeConnectionPorts(server)).toBe(
    'this manager gives each connection its own port (7 now: "a", "b", "c", "d", "e", …)',
  );
  handle.close();
  expect(describeConnectionPorts(server)).toBeUndefined();
});

describe("shared option checks", () => {
  test("heartbeat: timeout defaults to the interval; any positive timeout, smaller than the interval too, is valid", () => {
    expect(heartbeatSettings(undefined, "x")).toBeUndefined();
    expect(heartbeatSettings({ interval: 100 }, "x")).toEqual({ interval: 100, timeout: 100 });
    expect(heartbeatSettings({ interval: 100, timeout: 20 }, "x")).toEqual({ interval: 100, timeout: 20 });
    for (const bad of [
      { interval: 0 },
      { interval: -1 },
      { interval: Number.NaN },
      { interval: 2 ** 31 },
      { interval: 10, timeout: 0 },
    ]) {
      expect(() => heartbeatSettings(bad, "x")).toThrow(RangeError);
    }
  });

  test("maxFrameBytes: 1 MiB by default, a positive integer, within the framing's limit", () => {
    expect(maxFrameBytesSetting(undefined, "x")).toBe(1024 * 1024);
    expect(maxFrameBytesSetting(10, "x")).toBe(10);
    for (const bad of [0, -5, 1.5, Number.NaN]) expect(() => maxFrameBytesSetting(bad, "x")).toThrow(RangeError);
    expect(() => maxFrameBytesSetting(2 ** 32, "x", 2 ** 32 - 1)).toThrow(/at most 4294967295/);
  });
});
