// Heartbeat: off by default; when on, an idle peer is pinged and a silent (half-open) one dropped.
import net from "node:net";
import { attach, NetChannelError } from "@psession/net";
import { SessionAbortError, type SessionChannelError, SessionManager } from "psession";
import { expect, test } from "vitest";
import { track } from "./cleanup.js";
import { closedOf, connected, listen, sleep, until } from "./helpers.js";

function manager() {
  const m = track(new SessionManager({ sessionTimeout: 60_000 }));
  const errors: Error[] = [];
  m.on("error", (e) => void errors.push(e));
  return { m, errors };
}

/** A peer that accepts and then never says anything: what a half-open connection looks like. */
async function silentPeer() {
  const received: Buffer[] = [];
  const accepted: net.Socket[] = [];
  const server = track(
    net.createServer((socket) => {
      accepted.push(socket);
      socket.on("data", (chunk) => void received.push(chunk));
    }),
  );
  const { connect } = await listen("tcp", server);
  return { connect: () => track(connect()), received, accepted };
}

test("a half-open peer is pinged, then dropped after the timeout; pending sessions abort at once", async () => {
  const peer = await silentPeer();
  const { m, errors } = manager();
  const socket = peer.connect();
  const port = attach(m, socket, { heartbeat: { interval: 40, timeout: 200 } });
  const started = Date.now();
  const pending = port.request({ q: 1 }).catch((e: unknown) => e); // 60 s timeout
  const error = await pending;
  const elapsed = Date.now() - started;
  expect(error).toBeInstanceOf(SessionAbortError);
  expect(elapsed).toBeGreaterThanOrEqual(150);
  expect(elapsed).toBeLessThan(1500);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(NetChannelError);
  expect((errors[0] as NetChannelError).code).toBe("HEARTBEAT_TIMEOUT");
  expect(socket.destroyed).toBe(true);
  // What the peer saw: our request, then pings.
  const lines = Buffer.concat(peer.received)
    .toString()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines[0]).toMatchObject({ q: 1 });
  expect(lines.slice(1).length).toBeGreaterThanOrEqual(2);
  for (const line of lines.slice(1)) expect(line).toEqual({ $hb: "ping" });
});

test("a server with heartbeat drops a client that connected and went silent", async () => {
  const { m, errors } = manager();
  const server = track(net.createServer());
  const attachment = attach(m, server, { heartbeat: { interval: 30, timeout: 120 } });
  const { connect } = await listen("tcp", server);
  const silent = track(connect());
  silent.on("data", () => {}); // reads pings, never answers
  await until(() => attachment.ports.size === 1);
  await closedOf(silent);
  expect(attachment.ports.size).toBe(0);
  expect(errors.map((e) => (e as NetChannelError).code)).toEqual(["HEARTBEAT_TIMEOUT"]);
});

test("a psession peer without heartbeat answers pings, so an idle connection stays up", async () => {
  const server = manager();
  const srv = track(net.createServer());
  attach(server.m, srv);
  server.m.handle((msg) => ({ n: msg.n }));
  const events: unknown[] = [];
  server.m.on("message", (msg) => void events.push(msg));
  const { connect } = await listen("tcp", srv);
  const client = manager();
  const socket = track(connect());
  const port = attach(client.m, socket, { heartbeat: { interval: 20, timeout: 80 } });
  await connected(socket);
  await sleep(400); // five timeouts of idleness
  expect(socket.destroyed).toBe(false);
  expect(await port.request({ n: 1 })).toMatchObject({ n: 1 });
  expect(events).toEqual([]); // pings never reach the application
  expect(client.errors).toEqual([]);
  expect(server.errors).toEqual([]);
});

test("heartbeat is off by default: a plain line peer sees only the messages", async () => {
  const peer = await silentPeer();
  const { m } = manager();
  const socket = peer.connect();
  const port = attach(m, socket);
  void port.request({ hello: 1 }).catch(() => {});
  await sleep(300);
  // One line, our request (plus whatever protocol fields the core adds), and no ping.
  const lines = Buffer.concat(peer.received).toString().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toBe("");
  expect(JSON.parse(lines[0]!)).toMatchObject({ hello: 1, sid: 1 });
  expect(lines[0]).not.toContain("$hb");
  expect(socket.destroyed).toBe(false);
});

test("invalid heartbeat settings throw at attach time; the timeout defaults to the interval", () => {
  const { m } = manager();
  const socket = track(new net.Socket());
  expect(() => attach(m, socket, { heartbeat: { interval: 0, timeout: 100 } })).toThrow(RangeError);
  expect(() => attach(m, socket, { heartbeat: { interval: 10, timeout: 0 } })).toThrow(/heartbeat.timeout/);
  expect(() => attach(m, track(net.createServer()), { heartbeat: { interval: -5 } })).toThrow(/heartbeat.interval/);
  expect(() => attach(m, track(new net.Socket()), { heartbeat: { interval: 50 } })).not.toThrow();
});

// Issue 15 item 11: `{ interval: 200, timeout: 200 }` used to close a healthy idle connection after
// about 400 ms. The timeout now counts from the ping, the same meaning as in @psession/ws.
test.each([
  ["equal to", { interval: 60, timeout: 60 }],
  ["smaller than", { interval: 60, timeout: 20 }],
])(
  "a timeout %s the interval keeps a healthy idle connection up on both ends, and still drops a silent peer",
  async (_what, heartbeat) => {
    const server = manager();
    const srv = track(net.createServer());
    const attachment = attach(server.m, srv, { heartbeat });
    server.m.handle((msg) => ({ n: msg.n }));
    const { connect } = await listen("tcp", srv);
    const client = manager();
    const socket = track(connect());
    const port = attach(client.m, socket, { heartbeat });
    const silent = track(connect());
    silent.on("data", () => {}); // reads pings, never answers
    await until(() => attachment.ports.size === 2);
    await sleep(700); // more than ten intervals of idleness
    expect(socket.destroyed).toBe(false);
    expect(attachment.ports.size).toBe(1);
    expect(await port.request({ n: 1 })).toMatchObject({ n: 1 });
    expect(client.errors).toEqual([]);
    expect(server.errors.map((e) => (e as SessionChannelError).code)).toEqual(["HEARTBEAT_TIMEOUT"]);
    expect(silent.destroyed || silent.readableEnded).toBe(true);
  },
);
