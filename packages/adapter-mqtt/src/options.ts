import type { ChannelOptions } from "psession";

/**
 * Options of `attach(manager, client, options)`: the topics, and the options every adapter has
 * (`serializer`, `maxFrameBytes`, the core's port options, which every port made here gets).
 * MQTT has its own keep-alive, so there is no `heartbeat`.
 */
export interface MqttAttachOptions extends Omit<ChannelOptions, "port" | "reconnect" | "heartbeat"> {
  /**
   * Where this side publishes. `{port}` stands for the one topic level that names the peer:
   * a controller writes `"devices/{port}/in"`, a device its own `"devices/lamp-1/out"`.
   */
  publish: string;
  /**
   * What this side subscribes to, with `{port}` where `publish` has it (`+` in the filter). May be
   * a shared subscription, `"$share/<group>/devices/{port}/in"` (MQTT 5): see `inbox`.
   */
  subscribe: string;
  /**
   * Availability topic: a device publishes `online` there (retained) and leaves `offline` as its
   * Last Will (see `lastWill()`); a controller (templates with `{port}`) watches it and fails that
   * device's sessions at once when it goes offline.
   */
  status?: string;
  /** QoS of every publish and subscription (default 1). */
  qos?: 0 | 1 | 2;
  /**
   * MQTT 5: this instance's own topic, subscribed without `$share`, that its messages name as
   * `responseTopic` so the next turn of a session comes back to the same instance. Default: the
   * subscribe topic plus a random level when `subscribe` is a shared subscription, else unused.
   */
  inbox?: string;
  /**
   * Most turns this client keeps waiting for an answer at once (sessions it opened); more wait in
   * order until one is answered or ends. Brokers drop what overflows their per-client queue
   * (mosquitto: 1000 messages by default), so a burst of replies must not exceed it. Default 500;
   * `Infinity` for no window.
   */
  window?: number;
  /**
   * Most ports a controller makes for devices it hears from first (a publish on a topic the
   * templates match, under a new name): anyone may publish under any name. Default 10,000.
   */
  maxPorts?: number;
  /** Name of the one port when the templates have no `{port}` (a device): default "default". */
  port?: string;
  /**
   * Set TCP_NODELAY on the client's socket at every (re)connect (default true). Without it each
   * small QoS 1 exchange waits about 40 ms for Nagle's algorithm and delayed ACKs.
   */
  noDelay?: boolean;
}

export const DEFAULT_WINDOW = 500;
export const DEFAULT_MAX_PORTS = 10_000;
