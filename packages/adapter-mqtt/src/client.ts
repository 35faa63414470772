// What the adapter uses of an MQTT.js 5 `MqttClient`, written out so any compatible client fits.

export interface PublishProperties {
  responseTopic?: string;
  correlationData?: Uint8Array;
  messageExpiryInterval?: number;
}

/** The packet MQTT.js passes as the third argument of its "message" event. */
export interface InboundPacket {
  retain?: boolean;
  properties?: { responseTopic?: string; correlationData?: Uint8Array; [key: string]: unknown };
}

export interface MqttClientLike {
  connected: boolean;
  /** True once `end()` was called: publishes then fail. */
  disconnecting?: boolean;
  options: {
    protocolVersion?: number;
    clean?: boolean;
    will?: unknown;
  };
  /** The underlying stream (a net.Socket for mqtt://); MQTT.js sets it at every (re)connect. */
  stream?: unknown;
  // biome-ignore lint/suspicious/noExplicitAny: MQTT.js types each event's arguments; any listener fits here.
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: { qos: 0 | 1 | 2; retain?: boolean; properties?: PublishProperties },
    callback: (error?: Error) => void,
  ): unknown;
  subscribe(
    topics: Record<string, { qos: 0 | 1 | 2 }>,
    callback: (error: Error | null, granted?: { topic: string; qos: number }[]) => void,
  ): unknown;
  unsubscribe(topics: string[], callback: (error?: Error) => void): unknown;
}

/** Sets TCP_NODELAY on a client's current socket, when it is one. */
export function setNoDelay(client: MqttClientLike): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => unknown } | undefined;
  if (stream !== undefined && stream !== null && typeof stream.setNoDelay === "function") stream.setNoDelay(true);
}
