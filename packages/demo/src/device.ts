// A simulated device: its own MQTT connection, a psession manager that answers the controller's
// sessions, and an availability topic with a Last Will, as a Zigbee2MQTT device has.
import { attach, lastWill, type MqttAttachment } from "@psession/mqtt";
import mqtt, { type MqttClient } from "mqtt";
import { type Handler, SessionManager } from "psession";
import { deviceTopics } from "./topics.js";

export interface DeviceOptions {
  name: string;
  url: string;
  /** MQTT 5 (a real broker) or 3.1.1 (aedes). */
  v5: boolean;
  /** Prints a line of the device in the transcript. */
  say(text: string): void;
  handler: Handler;
  /** Called with each new connection before the adapter sees it (the lamp's lossy radio). */
  prepare?(client: MqttClient): void;
}

export class SimulatedDevice {
  readonly name: string;
  readonly manager = new SessionManager({ sessionTimeout: 5000 });
  readonly topics: ReturnType<typeof deviceTopics>;
  client: MqttClient | undefined;
  private attachment: MqttAttachment | undefined;
  private powered = false;

  constructor(private readonly options: DeviceOptions) {
    this.name = options.name;
    this.topics = deviceTopics(options.name);
    this.manager.handle(options.handler);
    // A device without power reports nothing; one with power says what went wrong.
    this.manager.on("error", (error) => {
      if (this.powered) options.say(`error: ${error.message}`);
    });
  }

  get online(): boolean {
    return this.powered;
  }

  /** Connects with a Last Will of "offline"; resolves once it listens and has said "online". */
  async powerOn(): Promise<void> {
    const { url, v5 } = this.options;
    const client = await mqtt.connectAsync(
      url,
      {
        protocolVersion: v5 ? 5 : 4,
        clientId: `psession-demo-${this.name}-${Math.random().toString(36).slice(2, 8)}`,
        will: lastWill(this.topics.status),
        connectTimeout: 5000,
        reconnectPeriod: 500,
      },
      false,
    );
    client.on("error", (error) => this.powered && this.options.say(`MQTT error: ${error.message}`));
    this.options.prepare?.(client);
    this.client = client;
    this.attachment = attach(this.manager, client, this.topics);
    this.powered = true;
    await this.attachment.whenReady();
  }

  /**
   * Power loss: the connection drops without an MQTT DISCONNECT, so the broker publishes the Last
   * Will ("offline", retained) for it. What the device was doing is lost with it.
   */
  async cutPower(): Promise<void> {
    const client = this.client;
    if (!this.powered || client === undefined) return;
    this.powered = false;
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    await this.attachment?.close();
  }

  /** A clean goodbye: "offline" on the status topic (retained), then DISCONNECT. */
  async shutDown(): Promise<void> {
    const client = this.client;
    if (this.powered) {
      this.powered = false;
      await this.attachment?.close();
    }
    this.manager.clear();
    if (client !== undefined && !client.disconnected) await client.endAsync();
  }
}
