// The shared contract over a real broker: a controller (templates with {port}) and one device,
// through the embedded aedes (MQTT 3.1.1).
import { runConformance } from "@psession/conformance";
import { attach } from "@psession/mqtt";
import type { MqttClient } from "mqtt";
import { afterEach } from "vitest";
import { type AedesBroker, connectClient, endClient, startAedes } from "./brokers.js";

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  const all = cleanups;
  cleanups = [];
  for (const cleanup of all.reverse()) await cleanup();
});

/** Resolves at the next "close" of `client` (its connection dropped). */
const closed = (client: MqttClient) => new Promise<void>((resolve) => client.once("close", () => resolve()));

let n = 0;
runConformance(
  "mqtt (aedes, MQTT 3.1.1)",
  async (client, server, { serializer }) => {
    const broker: AedesBroker = await startAedes();
    const base = `conformance/${++n}`;
    const controllerClient: MqttClient = await connectClient(broker.url);
    const deviceClient: MqttClient = await connectClient(broker.url);
    // Ports always survive a reconnect (MQTT.js reconnects by itself), so options.reconnect needs nothing.
    const controller = attach(client, controllerClient, {
      publish: `${base}/{port}/in`,
      subscribe: `${base}/{port}/out`,
      ...(serializer ? { serializer } : {}),
    });
    const device = attach(server, deviceClient, {
      publish: `${base}/dev/out`,
      subscribe: `${base}/dev/in`,
      ...(serializer ? { serializer } : {}),
    });
    await Promise.all([controller.whenReady(), device.whenReady()]);
    let done = false;
    const close = async () => {
      if (done) return;
      done = true;
      await Promise.all([controller.close(), device.close()]);
      await Promise.all([endClient(controllerClient), endClient(deviceClient)]);
      await broker.close();
    };
    cleanups.push(close);
    return {
      clientPort: controller.port("dev"),
      serverPort: device.port(),
      sendRaw: (value) =>
        controllerClient
          .publishAsync(
            `${base}/dev/in`,
            typeof value === "string" || value instanceof Uint8Array ? (value as string) : JSON.stringify(value),
            { qos: 1 },
          )
          .then(() => {}),
      serverRaw: {
        onMessage(listener) {
          const onMessage = (topic: string, payload: Buffer) => {
            if (topic === `${base}/dev/in`) listener(JSON.parse(payload.toString()));
          };
          deviceClient.on("message", onMessage);
          return () => deviceClient.off("message", onMessage);
        },
        send: (value) => void deviceClient.publish(`${base}/dev/out`, JSON.stringify(value), { qos: 1 }),
      },
      // A network cut on the controller's side: MQTT.js reconnects, what was in flight fails now.
      disconnect: () => (controllerClient.stream as { destroy(): void }).destroy(),
      // A cut on both sides; both reconnect, re-subscribe and carry on with the same ports.
      reconnect: async () => {
        const dropped = Promise.all([closed(controllerClient), closed(deviceClient)]);
        broker.cut();
        await dropped;
        await Promise.all([controller.whenReady(), device.whenReady()]);
      },
      close,
    };
  },
  {
    capabilities: {
      closeSignal: true, // the controller's own connection dropping fails what it has in flight
      peerCloseSignal: false, // a broker in between; devices learn nothing of a controller's drop
      rawWrites: true, // raw payloads are decoded by the far transport (DECODE_FAILED checked)
      rawPeer: true,
      roles: true,
      binary: true, // payloads are bytes: a binary serializer's output travels as it is
      reconnect: true,
      heartbeat: false, // MQTT's own keep-alive, in MQTT.js
      backPressure: false,
    },
  },
);
