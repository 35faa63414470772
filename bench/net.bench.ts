// TCP on 127.0.0.1: raw `net` with hand-written NDJSON framing and a Map of id → {resolve, reject,
// timer} (the limit; once writing per message, once batching writes per tick as the adapter does),
// against @psession/net in both framings. Client and server share this
// process, as in every suite here. Sequential latency, then 256 requests kept in flight.
import net from "node:net";
import { attach, createSocketTransport, type Framing } from "@psession/net";
import { SessionManager } from "psession";
import { type BenchTable, fmt, type Latency, latencies, roundRows, throughput, WARMUP_CALLS } from "./harness.js";
import { createIdMapClient } from "./id-map.js";

const TIMEOUT = 60_000;
const ROUNDS = 5;

interface Contender {
  name: string;
  start(): Promise<{ call: (n: number) => Promise<unknown>; close(): Promise<void> }>;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Correct NDJSON framing the way one writes it by hand: utf8 decoding, a string buffer, indexOf. */
function onLines(socket: net.Socket, onLine: (line: string) => void): void {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    let text = buffered.length === 0 ? chunk : buffered + chunk;
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf("\n", start)) !== -1) {
      onLine(text.slice(start, nl));
      start = nl + 1;
    }
    buffered = start === text.length ? "" : text.slice(start);
    text = "";
  });
}

/**
 * The hand-written limit. `batched`: frames written in one tick leave in one `write` at the end of
 * the tick (what @psession/net does), else one `write` per message, the way it is usually written.
 */
function raw(batched: boolean): Contender {
  return {
    name: batched ? "raw net NDJSON + id map, batched writes" : "raw net NDJSON + id map",
    async start() {
      const writer = (socket: net.Socket) => {
        if (!batched) return (line: string) => void socket.write(line);
        let out = "";
        const flush = () => {
          socket.write(out);
          out = "";
        };
        return (line: string) => {
          if (out.length === 0) process.nextTick(flush);
          out += line;
        };
      };
      const server = net.createServer((socket) => {
        socket.setNoDelay(true);
        const write = writer(socket);
        onLines(socket, (line) => {
          const m = JSON.parse(line);
          write(`${JSON.stringify({ ok: m.n, id: m.id })}\n`);
        });
      });
      const socket = net.connect(await listen(server), "127.0.0.1");
      socket.setNoDelay(true);
      await new Promise((resolve) => socket.once("connect", resolve));
      const write = writer(socket);
      const client = createIdMapClient(TIMEOUT);
      onLines(socket, (line) => {
        const m = JSON.parse(line);
        client.settle(m.id, m);
      });
      const call = (n: number) => client.call((id) => write(`${JSON.stringify({ n, id })}\n`));
      return {
        call,
        close: async () => {
          socket.destroy();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
  };
}

/** The adapter's transport (framing, serializer, write batching) under the hand-written id map: no psession core. */
const transportOnly: Contender = {
  name: "@psession/net transport + id map",
  async start() {
    const server = net.createServer((socket) => {
      const t = createSocketTransport(socket);
      t.onMessage((m) => {
        const msg = m as { n: number; id: number };
        t.send({ ok: msg.n, id: msg.id });
      });
    });
    const socket = net.connect(await listen(server), "127.0.0.1");
    const t = createSocketTransport(socket);
    await new Promise((resolve) => socket.once("connect", resolve));
    const client = createIdMapClient(TIMEOUT);
    t.onMessage((m) => client.settle((m as { id: number }).id, m));
    const call = (n: number) => client.call((id) => t.send({ n, id }));
    return {
      call,
      close: async () => {
        socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  },
};

function psession(framing: Framing): Contender {
  return {
    name: `@psession/net ${framing}`,
    async start() {
      const server = net.createServer();
      const serverManager = new SessionManager();
      serverManager.handle((m) => ({ ok: m.n }));
      attach(serverManager, server, { framing });
      const socket = net.connect(await listen(server), "127.0.0.1");
      const client = new SessionManager({ sessionTimeout: TIMEOUT });
      const port = attach(client, socket, { framing });
      await new Promise((resolve) => socket.once("connect", resolve));
      return {
        call: (n: number) => port.request({ n }),
        close: async () => {
          socket.destroy();
          client.clear();
          serverManager.clear();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
  };
}

export default async function netBench(): Promise<BenchTable[]> {
  const naive = raw(false);
  const limit = raw(true);
  const contenders = [naive, limit, transportOnly, psession("ndjson"), psession("length-prefix")];
  // Median of ROUNDS interleaved rounds; within a round the contenders' sequential calls go in
  // turn (latencies), one at a time, so a change of the machine's speed hits all of them alike.
  const lat = contenders.map(() => [] as Latency[]);
  const ops = contenders.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    const running = [];
    for (const contender of contenders) running.push(await contender.start());
    try {
      const counters = running.map(() => 0);
      const l = await latencies(
        running.map((r, i) => () => r.call(counters[i]!++)),
        5000,
      );
      for (const [i, r] of running.entries()) {
        lat[i]!.push(l[i]!);
        ops[i]!.push(await throughput(() => r.call(counters[i]!++), 256, 1000));
      }
    } finally {
      for (const r of running) await r.close();
    }
  }
  const rows = roundRows(
    contenders.map((c) => c.name),
    lat,
    ops,
    contenders.indexOf(limit),
  );
  return [
    {
      title: "TCP round trips (@psession/net)",
      note: `One loopback TCP connection per contender, client and server in this process, noDelay on; the server answers {ok: n}. Median of ${ROUNDS} interleaved rounds (ratios: the median of each round's ratio). Sequential: 5,000 awaited requests of each contender, one of each per turn in a new random order, after ${fmt(WARMUP_CALLS)} warm-up each. Throughput: 256 requests kept in flight for 1 s after a 0.5 s warm-up. "vs limit" compares with the batched raw baseline (throughput ratio, and p50 latency ratio: 100% = as fast).`,
      columns: ["channel", "seq p50 µs", "seq p99 µs", "256 in flight req/s", "req/s vs limit", "p50 vs limit"],
      rows,
    },
  ];
}
