// What the two MQTT suites (mqtt.bench.ts, mqtt-fanout.bench.ts) share: their clients and topics.
import type { connectClient } from "../packages/adapter-mqtt/test/brokers.js";

export type Client = Awaited<ReturnType<typeof connectClient>>;
export type QoS = 0 | 1;

/** Every request's timeout, psession's and the id map's alike: never reached. */
export const TIMEOUT = 60_000;

let topics = 0;

/** A topic prefix of its own for each contender: one contender never sees another's messages. */
export function nextBase(): string {
  return `bench/${process.pid}/${++topics}`;
}

/** TCP_NODELAY on (or off) a client's socket, now and after every reconnect. */
export function setNoDelay(client: Client, on: boolean): void {
  const apply = () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(on);
  apply();
  client.on("connect", apply);
}
