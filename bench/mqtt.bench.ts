// @psession/mqtt against raw MQTT.js with a hand-written correlation map (the limit), through real
// brokers on 127.0.0.1: the embedded aedes (TCP_NODELAY on accepted sockets) and a private
// mosquitto (set_tcp_nodelay true; and stock, without it). Requester and responder are two MQTT
// clients in this process, so every figure pays for both ends and two broker hops.
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
  collect,
  fmt,
  type Latency,
  latencies,
  latency,
  throughput,
  WARMUP_CALLS,
} from "./harness.js";
import { createIdMapClient } from "./id-map.js";

type Client = Awaited<ReturnType<typeof connectClient>>;
type QoS = 0 | 1;

const TIMEOUT = 60_000;
/**
 * Rounds of the pair tables, each latency and throughput in turn for every contender. This VM
 * switches between a fast and a slow speed for seconds at a time (p50 25 against 35 µs on
 * Socket.IO): with 3 rounds a median could land on the slow speed for one contender only.
 */
const PAIR_ROUNDS = 7;
const PAIR_MS = 1000;
let topics = 0;

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

function setNoDelay(client: Client, on: boolean): void {
  const apply = () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(on);
  apply();
  client.on("connect", apply);
}

/** The limit: one publish each way, `{id, v}` JSON, a Map of id → promise on the requester. */
async function raw(s: Setup): Promise<Contender> {
  const base = `bench/${process.pid}/${++topics}`;
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

/**
 * Hand-written MQTT 5 request/response: `responseTopic` + `correlationData` on the request, the
 * responder echoes the correlation on `responseTopic`. What the MQTT 5 properties alone cost.
 */
async function rawV5(s: Setup): Promise<Contender> {
  const base = `bench/${process.pid}/${++topics}`;
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
    name: "raw MQTT.js 5 responseTopic + correlationData",
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
  const base = `bench/${process.pid}/${++topics}`;
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  broker: string;
  qos: QoS;
  contender: string;
  p50: number;
  p99: number;
  rps: number;
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
    }));
  } finally {
    for (const c of contenders) await c.close();
  }
}

/**
 * One controller, `devices` responders, every round one request to each device at once.
 * "controller": the @psession/mqtt controller commanding firmware-style devices that know nothing
 * of psession (the headline use: the devices are not Node): on MQTT 5 the plain responder of
 * "raw5", on 3.1.1 one that echoes `sid` (README). Devices and broker as in "raw"/"raw5", so the
 * difference is the controller's library alone.
 */
type FanOutKind = "raw" | "raw5" | "psession" | "controller";
const FAN_OUT_NAMES: Record<FanOutKind, string> = {
  raw: "raw MQTT.js + id map",
  raw5: "raw MQTT.js 5 responseTopic + correlationData",
  psession: "@psession/mqtt",
  controller: "@psession/mqtt controller, firmware devices",
};

/** Hand-written devices: `answer` builds the reply (topic, payload, options) to a request. */
async function firmwareDevices(
  clients: Client[],
  base: string,
  answer: (i: number, m: Record<string, unknown>, properties: Record<string, unknown>) => [string, string, object],
): Promise<void> {
  await Promise.all(
    clients.map(async (c, i) => {
      c.on("message", (_topic, payload, packet) => {
        const [topic, reply, options] = answer(i, JSON.parse(payload.toString()), packet.properties ?? {});
        c.publish(topic, reply, options);
      });
      await c.subscribeAsync(`${base}/d${i}/in`, { qos: 1 });
    }),
  );
}

async function fanOut(url: string, protocolVersion: 4 | 5, devices: number, kind: FanOutKind) {
  const base = `bench/${process.pid}/${++topics}`;
  const clients: Client[] = [];
  const closers: (() => Promise<void>)[] = [];
  for (let from = 0; from < devices; from += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, devices - from) }, () => connectClient(url, { protocolVersion })),
    );
    clients.push(...batch);
  }
  for (const c of clients) setNoDelay(c, true);
  const controllerClient = await connectClient(url, { protocolVersion });
  setNoDelay(controllerClient, true);
  // The devices.
  if (kind === "psession") {
    await Promise.all(
      clients.map(async (c, i) => {
        const m = new SessionManager({ sessionTimeout: TIMEOUT });
        m.handle((msg) => ({ v: msg.v }));
        const a = attach(m, c, { publish: `${base}/d${i}/out`, subscribe: `${base}/d${i}/in` });
        await a.whenReady();
        closers.push(async () => {
          await a.close();
          m.clear();
        });
      }),
    );
  } else if (kind === "raw5" || (kind === "controller" && protocolVersion === 5)) {
    // A plain MQTT 5 responder: answers on responseTopic, echoing correlationData.
    await firmwareDevices(clients, base, (_i, m, { responseTopic, correlationData }) => [
      responseTopic as string,
      JSON.stringify({ v: m.v }),
      { qos: 1, properties: { correlationData } },
    ]);
  } else if (kind === "controller") {
    // MQTT 3.1.1 firmware that echoes sid.
    await firmwareDevices(clients, base, (i, m) => [
      `${base}/d${i}/out`,
      JSON.stringify({ sid: m.sid, v: m.v }),
      { qos: 1 },
    ]);
  } else {
    await firmwareDevices(clients, base, (i, m) => [
      `${base}/d${i}/out`,
      JSON.stringify({ id: m.id, v: m.v }),
      { qos: 1 },
    ]);
  }
  // The controller.
  let call: (device: number) => Promise<unknown>;
  if (kind === "psession" || kind === "controller") {
    const controller = new SessionManager({ sessionTimeout: TIMEOUT });
    const a = attach(controller, controllerClient, { publish: `${base}/{port}/in`, subscribe: `${base}/{port}/out` });
    await a.whenReady();
    closers.push(async () => {
      await a.close();
      controller.clear();
    });
    call = (device) => controller.request(`d${device}`, { v: device });
  } else if (kind === "raw5") {
    const ids = createIdMapClient(TIMEOUT);
    controllerClient.on("message", (_topic, payload, packet) => {
      ids.settle(Number(String(packet.properties?.correlationData)), JSON.parse(payload.toString()));
    });
    await controllerClient.subscribeAsync(`${base}/+/out`, { qos: 1 });
    closers.push(async () => ids.dispose());
    call = (device) =>
      ids.call((id) =>
        controllerClient.publish(`${base}/d${device}/in`, JSON.stringify({ v: device }), {
          qos: 1,
          properties: { responseTopic: `${base}/d${device}/out`, correlationData: Buffer.from(String(id)) },
        }),
      );
  } else {
    const ids = createIdMapClient(TIMEOUT);
    controllerClient.on("message", (_topic, payload) => {
      const m = JSON.parse(payload.toString());
      ids.settle(m.id, m);
    });
    await controllerClient.subscribeAsync(`${base}/+/out`, { qos: 1 });
    closers.push(async () => ids.dispose());
    call = (device) =>
      ids.call((id) =>
        controllerClient.publish(`${base}/d${device}/in`, JSON.stringify({ id, v: device }), { qos: 1 }),
      );
  }
  const round = () => Promise.all(Array.from({ length: devices }, (_, d) => call(d)));
  return {
    round,
    close: async () => {
      for (const close of closers) await close();
      await Promise.all([...clients, controllerClient].map((c) => endClient(c)));
    },
  };
}

async function fanOutRows(label: string, url: string, protocolVersion: 4 | 5): Promise<(string | number)[][]> {
  const DEVICES = 200;
  const kinds: FanOutKind[] =
    protocolVersion === 5 ? ["raw", "raw5", "psession", "controller"] : ["raw", "psession", "controller"];
  const sides: Awaited<ReturnType<typeof fanOut>>[] = [];
  for (const kind of kinds) sides.push(await fanOut(url, protocolVersion, DEVICES, kind));
  try {
    const times = sides.map(() => [] as number[]);
    // One full collection after the setup, then no more: a forced one between rounds throws away
    // optimized code (see collect) and 200 requests are too few to re-warm it, so each round
    // would measure the JIT more than the contender. Interleaving spreads the garbage alike.
    collect();
    for (let r = 0; r < 10; r++) for (const side of sides) await side.round(); // warm-up
    for (let r = 0; r < 30; r++) {
      for (const [i, side] of sides.entries()) {
        const t = performance.now();
        await side.round();
        times[i]!.push(performance.now() - t);
      }
    }
    const limit = median(times[0]!);
    // The hand-written code that puts the same on the wire: MQTT 5 properties (raw5) or not (raw).
    const same = median(times[kinds.indexOf(protocolVersion === 5 ? "raw5" : "raw")]!);
    return sides.map((_, i) => {
      const ms = median(times[i]!);
      const sorted = [...times[i]!].sort((a, b) => a - b);
      return [
        label,
        FAN_OUT_NAMES[kinds[i]!],
        fmt(ms, 2),
        fmt(sorted[Math.floor(sorted.length * 0.9)]!, 2),
        fmt((DEVICES * 1000) / ms),
        `${fmt((limit / ms) * 100)}%`,
        kinds[i] === "raw" && protocolVersion === 5 ? "" : `${fmt((same / ms) * 100)}%`,
      ];
    });
  } finally {
    for (const side of sides) await side.close();
  }
}

export default async function mqttBench(): Promise<BenchTable[]> {
  const brokers: Broker[] = [];
  const rows: Row[] = [];
  const fan: (string | number)[][] = [];
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
    fan.push(...(await fanOutRows("aedes (3.1.1)", aedes.url, 4)));
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
        fan.push(...(await fanOutRows(label, fast.url, protocolVersion)));
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
    columns: ["broker", "QoS", "contender", "p50 µs", "p99 µs", "req/s (256 in flight)", "req/s vs raw", "p50 vs raw"],
    rows: list.map((r) => {
      // Each broker/QoS group starts with its limit, raw MQTT.js with an id in the payload.
      const limit = list.find((l) => l.broker === r.broker && l.qos === r.qos)!;
      return [
        r.broker,
        r.qos,
        r.contender,
        fmt(r.p50, 1),
        fmt(r.p99, 1),
        fmt(r.rps),
        `${fmt((r.rps / limit.rps) * 100)}%`,
        `${fmt((limit.p50 / r.p50) * 100)}%`,
      ];
    }),
  });
  const tables: BenchTable[] = [
    table(
      "MQTT request/response: sequential latency and 256 in flight",
      "Requester and responder are two MQTT.js 5 clients in one process, TCP_NODELAY on both and on the broker; payload {v:1} as JSON. " +
        `Median of ${PAIR_ROUNDS} interleaved rounds; latency = 2,000 sequential calls of each contender, one of each in turn (µs), after ${fmt(WARMUP_CALLS)} warm-up calls each, throughput = 256 calls in flight for ${PAIR_MS / 1000} s. ` +
        "Raw: publish {id, v}, the responder echoes, a Map of id → promise (the limit). Raw MQTT 5: the id travels as correlationData with a responseTopic instead. " +
        "@psession/mqtt: port.request() against manager.handle(); on MQTT 5 its requests carry responseTopic, correlationData and messageExpiryInterval, its answers correlationData. " +
        "Rows marked 3.1.1 (aedes, and mosquitto again): every client speaks MQTT 3.1.1, so psession's sid travels in the payload only, the same wire as raw.",
      rows,
    ),
    {
      title: "MQTT fan-out: one controller, 200 devices, one request to each at once",
      note:
        "200 responder clients plus one controller, QoS 1, TCP_NODELAY everywhere. A round is 200 requests at once, one per device; median and 90th percentile of 30 interleaved rounds after 10 warm-up rounds, with one full collection before the warm-up. " +
        "'@psession/mqtt': psession on both ends (200 device managers in this process). '… controller, firmware devices': the psession controller, the devices hand-written and knowing nothing of psession " +
        "(MQTT 5: the plain responder of the raw MQTT 5 row; 3.1.1: it echoes sid). 'vs same wire': against the hand-written code with the same protocol features, raw MQTT 5 on MQTT 5 (responseTopic + correlationData), raw on 3.1.1.",
      columns: ["broker", "contender", "round p50 ms", "round p90 ms", "req/s", "vs raw", "vs same wire"],
      rows: fan,
    },
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
