// @psession/ws against the alternatives over real WebSockets on 127.0.0.1 (client and server in
// this process, so every figure pays for both ends): raw `ws` with a hand-written id map (the
// limit), @psession/ws, birpc over the same `ws`, and socket.io `emitWithAck` (websocket transport).
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { attach, SocketTransport, whenOpen } from "@psession/ws";
import { createBirpc } from "birpc";
import { SessionManager } from "psession";
import { Server as SocketIOServer } from "socket.io";
import { io as socketIOClient } from "socket.io-client";
import { WebSocket, WebSocketServer } from "ws";
import { type BenchTable, fmt, type Latency, latencies, roundRows, throughput, WARMUP_CALLS } from "./harness.js";
import { createIdMapClient } from "./id-map.js";

const TIMEOUT = 60_000;

interface Contender {
  name: string;
  call: (v: number) => Promise<unknown>;
  close: () => Promise<void>;
}

async function wsServer(): Promise<{ wss: WebSocketServer; url: string; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  return {
    wss,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function client(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await whenOpen(ws);
  return ws;
}

/** The limit: JSON frames and the shared hand-written id map (bench/id-map.ts). */
async function rawWs(): Promise<Contender> {
  const server = await wsServer();
  server.wss.on("connection", (socket) => {
    socket.on("message", (data) => {
      const m = JSON.parse(data.toString());
      socket.send(JSON.stringify({ id: m.id, v: m.v }));
    });
  });
  const ws = await client(server.url);
  const ids = createIdMapClient(TIMEOUT);
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    ids.settle(m.id, m);
  });
  return {
    name: "raw ws + id map (limit)",
    call: (v) => ids.call((id) => ws.send(JSON.stringify({ id, v }))),
    close: async () => {
      ids.dispose();
      ws.terminate();
      await server.close();
    },
  };
}

/**
 * The adapter alone: @psession/ws's socket transport (JSON encode/decode, frame handling) on both
 * ends, under the same hand-written id map, without the psession core. What the adapter costs.
 */
async function transportOnly(): Promise<Contender> {
  const server = await wsServer();
  const reporter = new SessionManager();
  const report = (error: Error) => reporter.report(error);
  server.wss.on("connection", (socket) => {
    const t = new SocketTransport(socket, { role: "server", report });
    t.onMessage((m) => t.send({ id: (m as { id: number }).id, v: (m as { v: number }).v }));
  });
  const ws = await client(server.url);
  const transport = new SocketTransport(ws, { role: "client", report });
  const ids = createIdMapClient(TIMEOUT);
  transport.onMessage((message) => ids.settle((message as { id: number }).id, message));
  return {
    name: "@psession/ws transport + id map",
    call: (v) => ids.call((id) => transport.send({ id, v })),
    close: async () => {
      ids.dispose();
      ws.terminate();
      await server.close();
    },
  };
}

async function psessionWs(): Promise<Contender> {
  const server = await wsServer();
  const serverManager = new SessionManager();
  const handle = attach(serverManager, server.wss);
  serverManager.handle((m) => ({ v: m.v }));
  const clientManager = new SessionManager();
  const ws = await client(server.url);
  const port = attach(clientManager, ws);
  return {
    name: "@psession/ws",
    call: (v) => port.request({ v }),
    close: async () => {
      handle.close();
      ws.terminate();
      clientManager.clear();
      await server.close();
    },
  };
}

async function birpcWs(): Promise<Contender> {
  const server = await wsServer();
  const functions = { echo: (v: number) => ({ v }) };
  server.wss.on("connection", (socket) => {
    createBirpc<Record<string, never>, typeof functions>(functions, {
      post: (data) => socket.send(data),
      on: (fn) => socket.on("message", fn),
      serialize: JSON.stringify,
      deserialize: (data) => JSON.parse(data.toString()),
    });
  });
  const ws = await client(server.url);
  const rpc = createBirpc<typeof functions>(
    {},
    {
      post: (data) => ws.send(data),
      on: (fn) => ws.on("message", fn),
      serialize: JSON.stringify,
      deserialize: (data) => JSON.parse(data.toString()),
    },
  );
  return {
    name: "birpc over ws",
    call: (v) => rpc.echo(v),
    close: async () => {
      rpc.$close();
      ws.terminate();
      await server.close();
    },
  };
}

async function socketIO(): Promise<Contender> {
  const httpServer = createServer();
  const io = new SocketIOServer(httpServer, { transports: ["websocket"], serveClient: false });
  io.on("connection", (socket) => {
    socket.on("echo", (v: number, ack: (r: unknown) => void) => ack({ v }));
  });
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  const socket = socketIOClient(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, {
    transports: ["websocket"],
  });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return {
    name: "socket.io emitWithAck",
    call: (v) => socket.emitWithAck("echo", v),
    close: async () => {
      socket.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

export default async function wsBench(): Promise<BenchTable[]> {
  const contenders: Contender[] = [];
  for (const make of [rawWs, transportOnly, psessionWs, birpcWs, socketIO]) contenders.push(await make());
  try {
    // Sanity: each one really answers.
    for (const c of contenders) {
      const r = (await c.call(7)) as { v?: number };
      if (r?.v !== 7) throw new Error(`${c.name} answered ${JSON.stringify(r)}`);
    }
    const ROUNDS = 7;
    const lat = contenders.map(() => [] as Latency[]);
    const tput = contenders.map(() => [] as number[]);
    // Rounds interleave the contenders so drift (GC, JIT, CPU clocks) hits all of them alike; within
    // a round their sequential calls go in turn (latencies), one at a time.
    for (let round = 0; round < ROUNDS; round++) {
      const l = await latencies(
        contenders.map((c) => () => c.call(1)),
        3000,
      );
      for (let i = 0; i < contenders.length; i++) {
        lat[i]!.push(l[i]!);
        tput[i]!.push(await throughput(() => contenders[i]!.call(1), 256, 1000));
      }
    }
    return [
      {
        title: "WebSocket request/response: sequential latency and 256 in flight",
        note:
          `One ws connection per contender on 127.0.0.1, client and server in one Node process, JSON frames, payload {v:1}. ` +
          `Median of ${ROUNDS} interleaved rounds (ratios: the median of each round's ratio); latency = 3,000 sequential calls of each contender, one of each per turn in a new random order (µs), after ${fmt(WARMUP_CALLS)} warm-up calls each, throughput = 256 calls in flight for 1 s.`,
        columns: ["transport", "p50 µs", "p99 µs", "req/s (256 in flight)", "req/s vs raw ws", "p50 vs raw ws"],
        rows: roundRows(
          contenders.map((c) => c.name),
          lat,
          tput,
        ),
      },
    ];
  } finally {
    for (const c of contenders) await c.close();
  }
}
