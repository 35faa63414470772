// Controllers, devices and brokers for the tests; everything made here is torn down after each
// test, pass or fail.
import { attach, lastWill, type MqttAttachment, type MqttAttachOptions } from "@psession/mqtt";
import type { IClientOptions, MqttClient } from "mqtt";
import { SessionManager, type SessionManagerOptions } from "psession";
import { afterEach } from "vitest";
import {
  connectClient,
  endClient,
  findMosquitto,
  startAedes,
  startMosquitto,
  type Broker,
  type MosquittoOptions,
} from "./brokers.js";

const brokers = new Set<Broker>();
const clients = new Set<MqttClient>();
const attachments = new Set<MqttAttachment>();
const managers = new Set<SessionManager>();

afterEach(async () => {
  await Promise.all([...attachments].map((a) => a.close().catch(() => {})));
  await Promise.all([...clients].map((c) => endClient(c)));
  for (const m of managers) m.clear();
  await Promise.all([...brokers].map((b) => b.close()));
  attachments.clear();
  clients.clear();
  managers.clear();
  brokers.clear();
});

export async function aedesBroker() {
  const broker = await startAedes();
  brokers.add(broker);
  return broker;
}

/** Why the mosquitto tests cannot run here, or undefined when they can (MQTT_URL, or a mosquitto binary). */
export const mosquittoMissing: string | undefined =
  process.env.MQTT_URL || findMosquitto()
    ? undefined
    : "mosquitto is not installed (scripts/ensure-services.sh installs it)";
if (mosquittoMissing) console.log(`[@psession/mqtt] skipping the mosquitto tests: ${mosquittoMissing}`);

/** A private mosquitto (always: this broker may be restarted by the test). */
export async function privateMosquitto(options?: MosquittoOptions) {
  const broker = await startMosquitto(options);
  brokers.add(broker);
  return broker;
}

/** MQTT_URL when set, else a private mosquitto. */
export async function mosquittoUrl(): Promise<string> {
  if (process.env.MQTT_URL) return process.env.MQTT_URL;
  return (await privateMosquitto()).url;
}

export async function client(
  url: string,
  options: IClientOptions = {},
  setup?: (client: MqttClient) => void,
): Promise<MqttClient> {
  const c = await connectClient(url, options, setup);
  clients.add(c);
  return c;
}

export interface Peer {
  manager: SessionManager;
  client: MqttClient;
  mqtt: MqttAttachment;
  errors: Error[];
}

export function manager(options: SessionManagerOptions = {}): { manager: SessionManager; errors: Error[] } {
  const m = new SessionManager({ sessionTimeout: 5000, ...options });
  managers.add(m);
  const errors: Error[] = [];
  m.on("error", (e) => void errors.push(e));
  return { manager: m, errors };
}

let unique = 0;
/** A unique topic root per peer set, so tests sharing MQTT_URL never see each other's traffic. */
export function root(): string {
  return `psession-test/${process.pid}-${++unique}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function controller(
  url: string,
  base: string,
  options: Partial<MqttAttachOptions> & { client?: IClientOptions; manager?: SessionManagerOptions } = {},
): Promise<Peer> {
  const { manager: m, errors } = manager(options.manager);
  const c = await client(url, options.client);
  const mqtt = attach(m, c, { publish: `${base}/{port}/in`, subscribe: `${base}/{port}/out`, ...strip(options) });
  attachments.add(mqtt);
  return { manager: m, client: c, mqtt, errors };
}

export async function device(
  url: string,
  base: string,
  name: string,
  options: Partial<MqttAttachOptions> & {
    client?: IClientOptions;
    manager?: SessionManagerOptions;
    withStatus?: boolean;
  } = {},
): Promise<Peer> {
  const { manager: m, errors } = manager(options.manager);
  const status = `${base}/${name}/status`;
  const c = await client(url, { ...(options.withStatus ? { will: lastWill(status) } : {}), ...options.client });
  const mqtt = attach(m, c, {
    publish: `${base}/${name}/out`,
    subscribe: `${base}/${name}/in`,
    ...(options.withStatus ? { status } : {}),
    ...strip(options),
  });
  attachments.add(mqtt);
  return { manager: m, client: c, mqtt, errors };
}

export function trackAttachment(a: MqttAttachment): MqttAttachment {
  attachments.add(a);
  return a;
}

function strip<T extends { client?: unknown; manager?: unknown; withStatus?: unknown }>(options: T) {
  const { client: _c, manager: _m, withStatus: _s, ...rest } = options;
  return rest;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check()` is true, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
