// @psession/mqtt against raw MQTT.js with a hand-written correlation map (the limit), through real
// brokers on 127.0.0.1: the embedded aedes (TCP_NODELAY on accepted sockets) and a private
// mosquitto (set_tcp_nodelay true; and stock, without it). Requester and responder are two MQTT
// clients in this process, so every figure pays for both ends and two broker hops. The fan-out,
// one controller and 200 devices, is mqtt-fanout.bench.ts (a process of its own: run.ts).
import { attach, type MqttAttachment } from "@psession/mqtt";
import { SessionManager } from "psession";
import {
  type Broker,
  connectClient,
  endClient,
  findMosquitto,
  startAedes,
  startMosquitto,
} from "../packages/adapter-mqtt/test/brokers.js";
import {
  type BenchTable,
  fmt,
  type Latency,
  latencies,
  latency,
  median,
  pairedRatio,
  throughput,
  WARMUP_CALLS,
} from "./harness.js";
import { createIdMapClient } from "./id-map.js";
import { nextBase, type QoS, setNoDelay, TIMEOUT } from "./mqtt-clients.js";

/**
 * Rounds of the pair tables, each latency and throughput in turn for every contender. This VM
 * switches between a fast and a slow speed for seconds at a time (p50 25 against 35 µs on
 * Socket.IO): with 3 rounds a median could land on the slow speed for one contender only.
 */
const PAIR_ROUNDS = 7;
const PAIR_MS = 1000;

interface Contender {
  name: string;
  call: (v: number) => Promise<unknown>;
  close: () => Promise<void>;
}

interface Setup {
  url: string;
  qos: QoS;
  /** TCP_NODELAY on the clients' sockets. */
  noDelay: boolean;
  protocolVersion: 4 | 5;
  /** Each contender's latency calls back to back, not in turn with the others' (see pair). */
  backToBack?: boolean;
}

/** The limit: one publish each way, `{id, v}` JSON, a Map of id → promise on the requester. */
async function raw(s: Setup): Promise<Contender> {
  const base = nextBase();
  const responder = await connectClient(s.url, { protocolVersion: s.protocolVersion });
  const requester = await connectClient(s.url, { protocolVersion: s.protocolVersion });
  setNoDelay(responder, s.noDelay);
  setNoDelay(requester, s.noDelay);
  responder.on("message", (_topic, payload) => {
    const m = JSON.parse(payload.toString());
    responder.publish(`${base}/dev/out`, JSON.stringify({ id: m.id, v: m.v }), { qos: s.qos });
  });
  await responder.subscribeAsync(`${base}/dev/in`, { qos: s.qos });
  const ids = createIdMapClient(TIMEOUT);
  requester.on("message", (_topic, payload) => {
    const m = JSON.parse(payload.toString());
    ids.settle(m.id, m);
  });
  await requester.subscribeAsync(`${base}/+/out`, { qos: s.qos });
  return {
    name: "raw MQTT.js + id map",
    call: (v) => ids.call((id) => requester.publish(`${base}/dev/in`, JSON.stringify({ id, v }), { qos: s.qos })),
    close: async () => {
      ids.dispose();
      await Promise.all([endClient(responder), endClient(requester)]);
    },
  };
}

const RAW_V5 = "raw MQTT.js 5 responseTopic + correlationData";

/**
 * Hand-written MQTT 5 request/response: `responseTopic` + `correlationData` on the request, the
 * responder echoes the correlation on `responseTopic`. What the MQTT 5 properties alone cost.
 */
async function rawV5(s: Setup): Promise<Contender> {
  const base = nextBase();
  const responder = await connectClient(s.url, { protocolVersion: 5 });
  const requester = await connectClient(s.url, { protocolVersion: 5 });
  setNoDelay(responder, s.noDelay);
  setNoDelay(requester, s.noDelay);
  responder.on("message", (_topic, payload, packet) => {
    const { responseTopic, correlationData } = packet.properties ?? {};
    const m = JSON.parse(payload.toString());
    responder.publish(responseTopic!, JSON.stringify({ v: m.v }), { qos: s.qos, properties: { correlationData } });
  });
  await responder.subscribeAsync(`${base}/dev/in`, { qos: s.qos });
  const ids = createIdMapClient(TIMEOUT);
  requester.on("message", (_topic, payload, packet) => {
    const id = Number(String(packet.properties?.correlationData));
    ids.settle(id, JSON.parse(payload.toString()));
  });
  await requester.subscribeAsync(`${base}/+/out`, { qos: s.qos });
  const responseTopic = `${base}/dev/out`;
  return {
    name: RAW_V5,
    call: (v) =>
      ids.call((id) =>
        requester.publish(`${base}/dev/in`, JSON.stringify({ v }), {
          qos: s.qos,
          properties: { responseTopic, correlationData: Buffer.from(String(id)) },
        }),
      ),
    close: async () => {
      ids.dispose();
      await Promise.all([endClient(responder), endClient(requester)]);
    },
  };
}

async function psession(s: Setup): Promise<Contender> {
  const base = nextBase();
  const deviceClient = await connectClient(s.url, { protocolVersion: s.protocolVersion });
  const controllerClient = await connectClient(s.url, { protocolVersion: s.protocolVersion });
  const device = new SessionManager({ sessionTimeout: TIMEOUT });
  const controller = new SessionManager({ sessionTimeout: TIMEOUT });
  const attachments: MqttAttachment[] = [
    attach(device, deviceClient, {
      publish: `${base}/dev/out`,
      subscribe: `${base}/dev/in`,
      qos: s.qos,
      noDelay: s.noDelay,
    }),
    attach(controller, controllerClient, {
      publish: `${base}/{port}/in`,
      subscribe: `${base}/{port}/out`,
      qos: s.qos,
      noDelay: s.noDelay,
    }),
  ];
  device.handle((m) => ({ v: m.v }));
  await Promise.all(attachments.map((a) => a.whenReady()));
  const port = attachments[1]!.port("dev");
  return {
    name: "@psession/mqtt",
    call: (v) => port.request({ v }),
    close: async () => {
      await Promise.all(attachments.map((a) => a.close()));
      device.clear();
      controller.clear();
      await Promise.all([endClient(deviceClient), endClient(controllerClient)]);
    },
  };
}

interface Row {
  broker: string;
  qos: QoS;
  contender: string;
  p50: number;
  p99: number;
  rps: number;
  /** Each round's p50 and req/s, for ratios paired by round (pairedRatio). */
  p50s: number[];
  rpss: number[];
}

/** raw and psession on one broker and QoS, interleaved over `rounds`; medians. */
async function pair(
  label: string,
  s: Setup,
  rounds: number,
  samples: number,
  warmup: number,
  ms: number,
): Promise<Row[]> {
  const contenders = [await raw(s), ...(s.protocolVersion === 5 ? [await rawV5(s)] : []), await psession(s)];
  try {
    for (const c of contenders) {
      const r = (await c.call(7)) as { v?: number };
      if (r?.v !== 7) throw new Error(`${c.name} answered ${JSON.stringify(r)}`);
    }
    const lat = contenders.map(() => [] as Latency[]);
    const tput = contenders.map(() => [] as number[]);
    const calls = contenders.map((c) => () => c.call(1));
    for (let round = 0; round < rounds; round++) {
      // Nagle's figures need each contender's calls back to back: between two calls of one
      // contender the others' would outlast the 40 ms delayed ACK that the table is about.
      let l: Latency[];
      if (!s.backToBack) l = await latencies(calls, samples, warmup);
      else {
        l = [];
        for (const call of calls) l.push(await latency(call, samples, warmup));
      }
      for (const [i, c] of contenders.entries()) {
        lat[i]!.push(l[i]!);
        tput[i]!.push(await throughput(() => c.call(1), 256, ms));
      }
    }
    return contenders.map((c, i) => ({
      broker: label,
      qos: s.qos,
      contender: c.name,
      p50: median(lat[i]!.map((l) => l.p50)),
      p99: median(lat[i]!.map((l) => l.p99)),
      rps: median(tput[i]!),
      p50s: lat[i]!.map((l) => l.p50),
      rpss: tput[i]!,
    }));
  } finally {
    for (const c of contenders) await c.close();
  }
}

export default async function mqttBench(): Promise<BenchTable[]> {
  const brokers: Broker[] = [];
  const rows: Row[] = [];
  const stock: Row[] = [];
  const hasMosquitto = findMosquitto() !== undefined;
  try {
    const aedes = await startAedes();
    brokers.push(aedes);
    for (const qos of [0, 1] as const) {
      rows.push(
        ...(await pair(
          "aedes (3.1.1)",
          { url: aedes.url, qos, noDelay: true, protocolVersion: 4 },
          PAIR_ROUNDS,
          2000,
          WARMUP_CALLS,
          PAIR_MS,
        )),
      );
    }
    if (hasMosquitto) {
      const fast = await startMosquitto({ noDelay: true });
      brokers.push(fast);
      // MQTT 5, and 3.1.1 on the same broker: the same wire as raw MQTT.js, without properties.
      for (const protocolVersion of [5, 4] as const) {
        const label = `mosquitto, nodelay (${protocolVersion === 5 ? "5" : "3.1.1"})`;
        for (const qos of [0, 1] as const) {
          rows.push(
            ...(await pair(
              label,
              { url: fast.url, qos, noDelay: true, protocolVersion },
              PAIR_ROUNDS,
              2000,
              WARMUP_CALLS,
              PAIR_MS,
            )),
          );
        }
      }
      // Stock: mosquitto without set_tcp_nodelay, clients as MQTT.js leaves them (Nagle on), then
      // the adapter's default (TCP_NODELAY on the clients only). ~40 ms per hop: few samples.
      const slow = await startMosquitto({ noDelay: false });
      brokers.push(slow);
      stock.push(
        ...(await pair(
          "stock mosquitto, clients Nagle",
          { url: slow.url, qos: 1, noDelay: false, protocolVersion: 5, backToBack: true },
          1,
          40,
          5,
          1500,
        )),
      );
      stock.push(
        ...(await pair(
          "stock mosquitto, clients nodelay",
          { url: slow.url, qos: 1, noDelay: true, protocolVersion: 5, backToBack: true },
          1,
          40,
          5,
          1500,
        )),
      );
    }
  } finally {
    for (const b of brokers) await b.close();
  }
  const table = (title: string, note: string, list: Row[]): BenchTable => ({
    title,
    note,
    columns: [
      "broker",
      "QoS",
      "contender",
      "p50 µs",
      "p99 µs",
      "req/s (256 in flight)",
      "req/s vs raw",
      "p50 vs raw",
      "req/s vs same wire",
      "p50 vs same wire",
    ],
    rows: list.map((r) => {
      const group = list.filter((l) => l.broker === r.broker && l.qos === r.qos);
      // Each broker/QoS group starts with its limit, raw MQTT.js with an id in the payload. The
      // same wire as psession's: raw MQTT 5 with responseTopic + correlationData where the group
      // has it (MQTT 5), else raw.
      const limit = group[0]!;
      const same = group.find((l) => l.contender === RAW_V5) ?? limit;
      const vsSame = r === limit && same !== limit;
      return [
        r.broker,
        r.qos,
        r.contender,
        fmt(r.p50, 1),
        fmt(r.p99, 1),
        fmt(r.rps),
        `${fmt(pairedRatio(r.rpss, limit.rpss) * 100)}%`,
        `${fmt(pairedRatio(limit.p50s, r.p50s) * 100)}%`,
        vsSame ? "" : `${fmt(pairedRatio(r.rpss, same.rpss) * 100)}%`,
        vsSame ? "" : `${fmt(pairedRatio(same.p50s, r.p50s) * 100)}%`,
      ];
    }),
  });
  const tables: BenchTable[] = [
    table(
      "MQTT request/response: sequential latency and 256 in flight",
      "Requester and responder are two MQTT.js 5 clients in one process, TCP_NODELAY on both and on the broker; payload {v:1} as JSON. " +
        `Median of ${PAIR_ROUNDS} interleaved rounds (ratios: the median of each round's ratio); latency = 2,000 sequential calls of each contender, one of each per turn in a new random order (µs), after ${fmt(WARMUP_CALLS)} warm-up calls each, throughput = 256 calls in flight for ${PAIR_MS / 1000} s. ` +
        "Raw: publish {id, v}, the responder echoes, a Map of id → promise (the limit). Raw MQTT 5: the id travels as correlationData with a responseTopic instead. " +
        "@psession/mqtt: port.request() against manager.handle(); on MQTT 5 its requests carry responseTopic, correlationData and messageExpiryInterval, its answers correlationData. " +
        "Rows marked 3.1.1 (aedes, and mosquitto again): every client speaks MQTT 3.1.1, so psession's sid travels in the payload only, the same wire as raw. " +
        "'vs same wire': against the hand-written code with the same protocol features, raw MQTT 5 on MQTT 5, raw on 3.1.1.",
      rows,
    ),
  ];
  if (stock.length > 0) {
    tables.push(
      table(
        "MQTT on a stock mosquitto (no set_tcp_nodelay): what Nagle costs",
        "QoS 1, MQTT 5, one round of 40 sequential calls (each contender's back to back) and 256 in flight for 1.5 s. 'clients Nagle': MQTT.js's default sockets (the adapter with noDelay: false); " +
          "'clients nodelay': TCP_NODELAY on the clients (the adapter's default), the broker still without it.",
        stock,
      ),
    );
  } else {
    tables.push({
      title: "mosquitto",
      note: "mosquitto is not installed: its rows were skipped.",
      columns: ["-"],
      rows: [],
    });
  }
  return tables;
}
