// @psession/socketio against what Socket.IO users write today, all on the same Socket.IO
// connection (client and server in this process, so every figure pays for both ends):
// `emitWithAck` with and without a timeout, a hand-written request event + reply event with an id
// map (the shared bench/id-map.ts, a setTimeout per request), the same without a timer (the least
// any request/reply over an application event can cost), and psession sessions on the "psession" event.
// Two more rows split psession's cost: its frames written by hand on both ends (what the envelope
// costs Socket.IO), and the core attached with a bare Transport of a few lines (what the adapter adds).
// An A/A control row, emitWithAck a second time, says how finely the table resolves.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { attach } from "@psession/socketio";
import { attach as attachCore, type Message, SessionManager, type Transport } from "psession";
import { Server } from "socket.io";
import { io as connect, type Socket } from "socket.io-client";
import { type BenchTable, fmt, type Latency, latencies, roundRows, throughput, WARMUP_CALLS } from "./harness.js";
import { createIdMapClient } from "./id-map.js";

const TIMEOUT = 60_000;

/** The least Transport over a Socket.IO socket: one event each way, no batching, checks or hello. */
function bareTransport(
  socket: { emit(event: string, frame: unknown): unknown; on(event: string, fn: (frame: Message) => void): unknown },
  role: "client" | "server",
): Transport<Message> {
  let listener: ((message: Message) => void) | undefined;
  socket.on("core", (frame) => listener?.(frame));
  return {
    role,
    send: (message) => void socket.emit("core", message),
    onMessage(fn) {
      listener = fn;
      return () => {
        listener = undefined;
      };
    },
  };
}

interface Contender {
  name: string;
  call: (v: number) => Promise<unknown>;
}

interface Setup {
  contenders: Contender[];
  close(): Promise<void>;
}

async function setup(transport: "websocket" | "polling"): Promise<Setup> {
  const httpServer = createServer();
  const io = new Server(httpServer, { transports: [transport], serveClient: false });
  const serverManager = new SessionManager({ sessionTimeout: TIMEOUT });
  const handle = attach(serverManager, io);
  serverManager.handle((m) => ({ v: m.v }));
  // The core alone on the server side of the "core" event (its own manager: the adapter owns serverManager).
  const coreServer = new SessionManager({ sessionTimeout: TIMEOUT });
  coreServer.handle((m) => ({ v: m.v }));
  io.on("connection", (socket) => {
    attachCore(coreServer, bareTransport(socket, "server"), { port: socket.id });
    // psession's frames, answered by hand: sid echoed, $re = the request's $turn.
    socket.on("envelope", (m: { v: number; sid: number; $turn: number }) =>
      socket.emit("envelope", { v: m.v, sid: m.sid, $re: m.$turn }),
    );
    socket.on("echo", (m: { v: number }, ack: (r: unknown) => void) => ack({ v: m.v }));
    socket.on("rpc", (m: { id: number; v: number }) => void socket.emit("rpc:reply", { id: m.id, v: m.v }));
    socket.on("bare", (m: { id: number; v: number }) => void socket.emit("bare:reply", { id: m.id, v: m.v }));
  });
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  const socket: Socket = connect(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, {
    transports: [transport],
  });
  const clientManager = new SessionManager({ sessionTimeout: TIMEOUT });
  const port = attach(clientManager, socket);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const ids = createIdMapClient(TIMEOUT);
  socket.on("rpc:reply", (m: { id: number; v: number }) => ids.settle(m.id, m));
  // The least an event-based request/reply can do: no timer, no session, nothing but an id.
  const bare = new Map<number, (reply: unknown) => void>();
  let bareSeq = 0;
  socket.on("bare:reply", (m: { id: number; v: number }) => {
    const resolve = bare.get(m.id);
    bare.delete(m.id);
    resolve?.(m);
  });
  // psession's frames by hand on the client: odd sids (the client's parity), a growing $turn.
  const envelopes = new Map<number, (reply: unknown) => void>();
  let turn = 0;
  socket.on("envelope", (m: { sid: number }) => {
    const resolve = envelopes.get(m.sid);
    envelopes.delete(m.sid);
    resolve?.(m);
  });
  const coreClient = new SessionManager({ sessionTimeout: TIMEOUT });
  const corePort = attachCore(coreClient, bareTransport(socket, "client"), { port: "server" });
  return {
    contenders: [
      { name: "emitWithAck (no timeout)", call: (v) => socket.emitWithAck("echo", { v }) },
      // The same call again: its distance from the first row is this table's resolution.
      { name: "emitWithAck again (A/A control)", call: (v) => socket.emitWithAck("echo", { v }) },
      { name: "timeout(60 s).emitWithAck", call: (v) => socket.timeout(TIMEOUT).emitWithAck("echo", { v }) },
      { name: "event + id map (hand-written)", call: (v) => ids.call((id) => socket.emit("rpc", { id, v })) },
      {
        name: "event + id map, no timeout (floor)",
        call: (v) =>
          new Promise((resolve) => {
            const id = ++bareSeq;
            bare.set(id, resolve);
            socket.emit("bare", { id, v });
          }),
      },
      {
        name: "psession's frames, by hand on both ends",
        call: (v) =>
          new Promise((resolve) => {
            const $turn = ++turn;
            const sid = (($turn * 2) % 65_534) + 1;
            envelopes.set(sid, resolve);
            socket.emit("envelope", { v, sid, $turn });
          }),
      },
      { name: "psession core, bare Transport (no adapter)", call: (v) => corePort.request({ v }) },
      { name: "@psession/socketio", call: (v) => port.request({ v }) },
    ],
    async close() {
      ids.dispose();
      handle.close();
      clientManager.clear();
      serverManager.clear();
      coreClient.clear();
      coreServer.clear();
      socket.disconnect();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

async function table(
  transport: "websocket" | "polling",
  rounds: number,
  calls: number,
  ms: number,
): Promise<BenchTable> {
  const { contenders, close } = await setup(transport);
  try {
    for (const c of contenders) {
      const r = (await c.call(7)) as { v?: number };
      if (r?.v !== 7) throw new Error(`${c.name} answered ${JSON.stringify(r)}`);
    }
    const lat = contenders.map(() => [] as Latency[]);
    const tput = contenders.map(() => [] as number[]);
    // Rounds interleave the contenders so drift (GC, JIT, CPU clocks) hits all of them alike.
    for (let round = 0; round < rounds; round++) {
      const l = await latencies(
        contenders.map((c) => () => c.call(1)),
        calls,
        Math.min(WARMUP_CALLS, 2 * calls),
      );
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[i]!;
        lat[i]!.push(l[i]!);
        tput[i]!.push(await throughput(() => c.call(1), 256, ms));
      }
    }
    return {
      title: `Socket.IO (${transport}) request/response on one connection: sequential latency and 256 in flight`,
      note:
        `One socket.io 4.8 connection on 127.0.0.1, client and server in one Node process, payload {v:1}; every contender on the same connection. ` +
        `Median of ${rounds} interleaved rounds (ratios: the median of each round's ratio); latency = ${fmt(calls)} sequential calls of each contender, one of each per turn in a new random order (µs), after ${fmt(Math.min(WARMUP_CALLS, 2 * calls))} warm-up calls each, throughput = 256 calls in flight for ${ms / 1000} s. ` +
        `Ratios against emitWithAck without a timeout (what most code does); psession always runs a timeout per request (60 s here). ` +
        `'emitWithAck again (A/A control)': the same call as the first row: its distance from 100% is the table's resolution.`,
      columns: ["contender", "p50 µs", "p99 µs", "req/s (256 in flight)", "req/s vs emitWithAck", "p50 vs emitWithAck"],
      rows: roundRows(
        contenders.map((c) => c.name),
        lat,
        tput,
      ),
    };
  } finally {
    await close();
  }
}

export default async function socketioBench(): Promise<BenchTable[]> {
  return [await table("websocket", 11, 3000, 1000), await table("polling", 1, 300, 1500)];
}
