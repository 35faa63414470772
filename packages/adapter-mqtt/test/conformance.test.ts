// The shared contract over a real broker: a controller (templates with {port}) and one device,
// through the embedded aedes (MQTT 3.1.1).
import { runConformance } from "@psession/conformance";
import { attach } from "@psession/mqtt";
import { afterEach } from "vitest";
import { endClient, startAedes, connectClient, type AedesBroker } from "./brokers.js";
import type { MqttClient } from "mqtt";

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  const all = cleanups;
  cleanups = [];
  for (const cleanup of all.reverse()) await cleanup();
});

let n = 0;
runConformance("mqtt (aedes, MQTT 3.1.1)", async (client, server) => {
  const broker: AedesBroker = await startAedes();
  const base = `conformance/${++n}`;
  const controllerClient: MqttClient = await connectClient(broker.url);
  const deviceClient: MqttClient = await connectClient(broker.url);
  const controller = attach(client, controllerClient, {
    publish: `${base}/{port}/in`,
    subscribe: `${base}/{port}/out`,
  });
  const device = attach(server, deviceClient, { publish: `${base}/dev/out`, subscribe: `${base}/dev/in` });
  await Promise.all([controller.whenReady(), device.whenReady()]);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
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
        .publishAsync(`${base}/dev/in`, typeof value === "string" ? value : JSON.stringify(value), { qos: 1 })
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
    close,
  };
});
