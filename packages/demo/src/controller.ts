// The controller: one MQTT connection, one psession manager, a port per device made on first use
// by the topic templates; it times every command and follows each device's availability.
import { attach, type MqttAttachment, parseStatus } from "@psession/mqtt";
import mqtt, { type MqttClient } from "mqtt";
import { type Message, type SendOptions, type Session, SessionManager } from "psession";
import { controllerTopics, parseTopic } from "./topics.js";

export interface Availability {
  online: boolean;
  /** When the device was last heard from (availability or any message), Date.now(). */
  lastSeen: number;
}

export interface Answer {
  reply: Message;
  /** Round-trip time, ms. */
  ms: number;
}

export class Controller {
  readonly manager = new SessionManager({ sessionTimeout: 2000 });
  readonly availability = new Map<string, Availability>();
  private readonly availabilityListeners = new Set<(device: string, availability: Availability) => void>();
  private attachment!: MqttAttachment;

  private constructor(readonly client: MqttClient) {}

  /** `watch` sees the client before it subscribes, so it misses none of the retained availability. */
  static async connect(url: string, v5: boolean, watch?: (client: MqttClient) => void): Promise<Controller> {
    const client = await mqtt.connectAsync(
      url,
      {
        protocolVersion: v5 ? 5 : 4,
        clientId: `psession-demo-controller-${Math.random().toString(36).slice(2, 8)}`,
        connectTimeout: 5000,
        reconnectPeriod: 500,
      },
      false,
    );
    client.on("error", () => {}); // reported through the manager's "error" while attached
    watch?.(client);
    const controller = new Controller(client);
    client.on("message", (topic, payload) => controller.heard(topic, payload));
    controller.attachment = attach(controller.manager, client, { ...controllerTopics });
    await controller.attachment.whenReady();
    return controller;
  }

  private heard(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (parsed === undefined || parsed.kind === "set") return;
    const online = parsed.kind === "availability" ? parseStatus(payload) : true;
    if (online === undefined) return;
    const availability = { online, lastSeen: Date.now() };
    this.availability.set(parsed.device, availability);
    for (const listener of this.availabilityListeners) listener(parsed.device, availability);
  }

  /** Calls `listener` whenever a device is heard from: its availability, or any message of it. */
  onAvailability(listener: (device: string, availability: Availability) => void): () => void {
    this.availabilityListeners.add(listener);
    return () => this.availabilityListeners.delete(listener);
  }

  /** Resolves once every device in `names` is online; rejects after `ms`. */
  whenOnline(names: readonly string[], ms = 5000): Promise<void> {
    const ready = () => names.every((name) => this.availability.get(name)?.online === true);
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        const missing = names.filter((name) => this.availability.get(name)?.online !== true);
        reject(new Error(`not online after ${ms} ms: ${missing.join(", ")}`));
      }, ms);
      const off = this.onAvailability(() => {
        if (!ready()) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /** One turn of `session`, timed (psession's statistics count it too). */
  async send(session: Session, message: Message, options?: SendOptions): Promise<Answer> {
    const started = performance.now();
    const reply = await session.send(message, options);
    return { reply, ms: performance.now() - started };
  }

  /** A one-turn command to `device`, timed. */
  request(device: string, message: Message, options?: SendOptions): Promise<Answer> {
    return this.send(this.manager.createSession(device, { once: true }), message, options);
  }

  /** Detaches and disconnects. */
  async close(): Promise<void> {
    await this.attachment.close();
    this.manager.clear();
    await this.client.endAsync();
  }
}
