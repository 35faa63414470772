// The headline use measured: one controller commanding 200 devices at once through a real broker
// (the embedded aedes, and a private mosquitto with set_tcp_nodelay), psession against the same
// request/reply written by hand. Every client is in this process. Two rows say how far its ratios
// can be read: psession's own frames written by hand on both ends (what psession's wire costs,
// apart from its code), and a second, identical @psession/mqtt contender (an A/A control: any
// distance between the two is this table's resolution, not a difference of code).
import { attach } from "@psession/mqtt";
import { SessionManager } from "psession";
import {
  type Broker,
  connectClient,
  endClient,
  findMosquitto,
  startAedes,
  startMosquitto,
} from "../packages/adapter-mqtt/test/brokers.js";
import { type BenchTable, collect, fmt, median, pairedRatio } from "./harness.js";
import { createIdMapClient } from "./id-map.js";
import { type Client, nextBase, setNoDelay, TIMEOUT } from "./mqtt-clients.js";

/**
 * One controller, `devices` responders, every round one request to each device at once.
 * "controller": the @psession/mqtt controller commanding firmware-style devices that know nothing
 * of psession (the headline use: the devices are not Node): on MQTT 5 the plain responder of
 * "raw5", on 3.1.1 one that echoes `sid` (README). Devices and broker as in "raw"/"raw5", so the
 * difference is the controller's library alone.
 */
type FanOutKind = "raw" | "raw5" | "frames" | "psession" | "psession2" | "controller";
const FAN_OUT_NAMES: Record<FanOutKind, string> = {
  raw: "raw MQTT.js + id map",
  raw5: "raw MQTT.js 5 responseTopic + correlationData",
  frames: "psession's frames, by hand on both ends",
  psession: "@psession/mqtt",
  psession2: "@psession/mqtt again (A/A control)",
  controller: "@psession/mqtt controller, firmware devices",
};

/**
 * Hand-written devices: `answer` builds the reply (topic, payload, options) to a request.
 * `published`: a callback for every publish, as @psession/mqtt passes one (the frames-by-hand row).
 */
async function firmwareDevices(
  clients: Client[],
  base: string,
  answer: (i: number, m: Record<string, unknown>, properties: Record<string, unknown>) => [string, string, object],
  published?: () => void,
): Promise<void> {
  await Promise.all(
    clients.map(async (c, i) => {
      c.on("message", (_topic, payload, packet) => {
        const [topic, reply, options] = answer(i, JSON.parse(payload.toString()), packet.properties ?? {});
        c.publish(topic, reply, options, published);
      });
      await c.subscribeAsync(`${base}/d${i}/in`, { qos: 1 });
    }),
  );
}

async function fanOut(url: string, protocolVersion: 4 | 5, devices: number, kind: FanOutKind) {
  const base = nextBase();
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
  if (kind === "psession" || kind === "psession2") {
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
  } else if (kind === "frames") {
    // What @psession/mqtt puts on the wire, by hand: the answer carries sid and $re (the request's
    // $turn); on MQTT 5 it goes to responseTopic with the request's correlationData.
    await firmwareDevices(
      clients,
      base,
      (i, m, { responseTopic, correlationData }) => {
        const reply = JSON.stringify({ v: m.v, sid: m.sid, $re: m.$turn });
        return protocolVersion === 5
          ? [responseTopic as string, reply, { qos: 1, properties: { correlationData } }]
          : [`${base}/d${i}/out`, reply, { qos: 1 }];
      },
      noop,
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
  if (kind === "psession" || kind === "psession2" || kind === "controller") {
    const controller = new SessionManager({ sessionTimeout: TIMEOUT });
    const a = attach(controller, controllerClient, { publish: `${base}/{port}/in`, subscribe: `${base}/{port}/out` });
    await a.whenReady();
    closers.push(async () => {
      await a.close();
      controller.clear();
    });
    call = (device) => controller.request(`d${device}`, { v: device });
  } else if (kind === "frames") {
    // psession's request by hand: sid (odd: the controller's parity) and $turn in the payload; on
    // MQTT 5 also responseTopic, correlationData "<tag>.<sid>" (built once per sid) and the expiry
    // of the request's timeout; a publish callback on every publish. An id map keyed by $turn.
    const ids = createIdMapClient(TIMEOUT);
    controllerClient.on("message", (_topic, payload) => {
      const m = JSON.parse(payload.toString());
      ids.settle(m.$re, m);
    });
    await controllerClient.subscribeAsync(`${base}/+/out`, { qos: 1 });
    closers.push(async () => ids.dispose());
    const correlations: Buffer[] = [];
    call = (device) =>
      ids.call((turn) => {
        const sid = ((turn * 2) % 65_534) + 1;
        const payload = JSON.stringify({ v: device, sid, $turn: turn });
        const options =
          protocolVersion === 5
            ? {
                qos: 1 as const,
                properties: {
                  responseTopic: `${base}/d${device}/out`,
                  correlationData: (correlations[sid] ??= Buffer.from(`abcdefgh.${sid}`, "latin1")),
                  messageExpiryInterval: TIMEOUT / 1000,
                },
              }
            : { qos: 1 as const };
        controllerClient.publish(`${base}/d${device}/in`, payload, options, noop);
      });
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

/** Rounds measured per table, after WARMUP_ROUNDS; every contender once per round, in turn. */
const ROUNDS = 60;
const WARMUP_ROUNDS = 10;
const DEVICES = 200;

/**
 * A broker's fan-out rows. Ratios are paired: each round times every contender once, one after
 * another (a round is ~15–40 ms), and a ratio is the median over rounds of the reference's round
 * time over the contender's in the same round. This VM switches between a fast and a slow speed
 * for seconds at a time, so round times are bimodal; each contender's own median can land on
 * either speed by chance, while both rounds of a pair met the same one.
 */
async function fanOutRows(label: string, url: string, protocolVersion: 4 | 5): Promise<(string | number)[][]> {
  const kinds: FanOutKind[] =
    protocolVersion === 5
      ? ["raw", "raw5", "frames", "psession", "psession2", "controller"]
      : ["raw", "frames", "psession", "psession2", "controller"];
  const sides: Awaited<ReturnType<typeof fanOut>>[] = [];
  for (const kind of kinds) sides.push(await fanOut(url, protocolVersion, DEVICES, kind));
  try {
    const times = sides.map(() => [] as number[]);
    // One full collection after the setup, then no more: a forced one between rounds throws away
    // optimized code (see collect) and 200 requests are too few to re-warm it, so each round
    // would measure the JIT more than the contender. Interleaving spreads the garbage alike.
    collect();
    for (let r = 0; r < WARMUP_ROUNDS; r++) for (const side of sides) await side.round();
    for (let r = 0; r < ROUNDS; r++) {
      // Each round starts with the next contender: what one round leaves behind (PUBACKs, GC
      // debt) falls on whoever comes after it. With raw always first, the controller read 94–98%
      // of raw; with the controller first, 85–93% (docs/benchmarks.md, run of 09:03 UTC).
      for (let k = 0; k < sides.length; k++) {
        const i = (r + k) % sides.length;
        const t = performance.now();
        await sides[i]!.round();
        times[i]!.push(performance.now() - t);
      }
    }
    const paired = (reference: number, i: number) => pairedRatio(times[reference]!, times[i]!);
    // The hand-written code that puts the same on the wire: MQTT 5 properties (raw5) or not (raw).
    const same = kinds.indexOf(protocolVersion === 5 ? "raw5" : "raw");
    return sides.map((_, i) => {
      const ms = median(times[i]!);
      const sorted = [...times[i]!].sort((a, b) => a - b);
      return [
        label,
        FAN_OUT_NAMES[kinds[i]!],
        fmt(ms, 2),
        fmt(sorted[Math.floor(sorted.length * 0.9)]!, 2),
        fmt((DEVICES * 1000) / ms),
        `${fmt(paired(0, i) * 100)}%`,
        kinds[i] === "raw" && protocolVersion === 5 ? "" : `${fmt(paired(same, i) * 100)}%`,
      ];
    });
  } finally {
    for (const side of sides) await side.close();
  }
}

export default async function mqttFanOutBench(): Promise<BenchTable[]> {
  const brokers: Broker[] = [];
  const fan: (string | number)[][] = [];
  try {
    const aedes = await startAedes();
    brokers.push(aedes);
    fan.push(...(await fanOutRows("aedes (3.1.1)", aedes.url, 4)));
    if (findMosquitto() !== undefined) {
      const fast = await startMosquitto({ noDelay: true });
      brokers.push(fast);
      // MQTT 5, and 3.1.1 on the same broker: the same wire as raw MQTT.js, without properties.
      for (const protocolVersion of [5, 4] as const) {
        const label = `mosquitto, nodelay (${protocolVersion === 5 ? "5" : "3.1.1"})`;
        fan.push(...(await fanOutRows(label, fast.url, protocolVersion)));
      }
    }
  } finally {
    for (const b of brokers) await b.close();
  }
  return [
    {
      title: "MQTT fan-out: one controller, 200 devices, one request to each at once",
      note:
        `${DEVICES} responder clients plus one controller, QoS 1, TCP_NODELAY everywhere, in a process of their own (no other suite ran in it before). ` +
        `A round is ${DEVICES} requests at once, one per device; ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up rounds, every contender once per round in turn, each round starting with the next contender, with one full collection before the warm-up. ` +
        "Round p50/p90: each contender's own. 'vs raw' and 'vs same wire': paired, the median over rounds of the reference's round time over the contender's in the same round. " +
        "'psession's frames, by hand on both ends': @psession/mqtt's wire (sid and $turn/$re in the payload; on MQTT 5 also responseTopic, correlationData and messageExpiryInterval; a callback on every publish) written by hand with an id map. " +
        "'@psession/mqtt': psession on both ends (200 device managers in this process); '… again (A/A control)': the same contender a second time, with clients of its own: the distance between the two is the table's resolution. '… controller, firmware devices': the psession controller, the devices hand-written and knowing nothing of psession " +
        "(MQTT 5: the plain responder of the raw MQTT 5 row; 3.1.1: it echoes sid). 'vs same wire': against the hand-written code with the same protocol features, raw MQTT 5 on MQTT 5 (responseTopic + correlationData), raw on 3.1.1." +
        (findMosquitto() === undefined ? " mosquitto is not installed: its rows were skipped." : ""),
      columns: ["broker", "contender", "round p50 ms", "round p90 ms", "req/s", "vs raw", "vs same wire"],
      rows: fan,
    },
  ];
}

function noop(): void {}
