import type { Port, Role, TransferExtras, Transport } from "psession";
import type { Outgoing } from "./outbox.js";

/** Where the peer asked the next message of a session to go (MQTT 5 responseTopic + correlationData). */
export interface Route {
  topic: string | undefined;
  correlation: Uint8Array | undefined;
}

/** What a port transport asks of the client-wide link it belongs to. */
export interface PortLink {
  send(transport: PortTransport, message: Record<string, unknown>, timeout: number | undefined): void | Promise<void>;
  detach(transport: PortTransport): void;
}

type Listener = (message: unknown) => void;
type CloseListener = (reason?: unknown) => void;

/**
 * One port (one device, or a device's one controller) on a shared MQTT client: `send` publishes on
 * the port's topic, `onMessage` gets what the client's single "message" listener routes here by
 * topic, `onClose` fires when the connection to the broker drops (the link then moves the port to
 * a fresh transport, so that what was in flight fails now and retries go out after the reconnect).
 */
export class PortTransport implements Transport<unknown> {
  port: Port | undefined = undefined;
  closed = false;
  /** MQTT 5 routes by sid, recorded from inbound properties. */
  routes: Map<number, Route> | undefined = undefined;
  /** Own sids holding a slot of the in-flight window. */
  readonly held = new Set<number>();
  /** MQTT.js's publish callback for this port: reports what the broker refused. */
  published: (error?: Error) => void = () => {};
  /** Turns of this port waiting for the connection or a window slot, by sid. */
  readonly queued = new Map<number, Outgoing>();
  private listeners: Listener[] = [];
  private closeListeners: CloseListener[] = [];
  private subscribed = false;
  /** Ask the core for each attempt's timeout: it becomes the request's MQTT 5 message expiry. */
  readonly timeouts = true;
  /**
   * Payload bytes this port published and received (messages delivered to it): the encoded
   * payloads only, without MQTT packet headers, topics or properties, as one client and its socket
   * carry every port at once. A string payload (the JSON serializer's) counts its length: its byte
   * count when ASCII.
   */
  bytesSent = 0;
  bytesReceived = 0;
  /** When the device's status topic last said "online" (epoch ms, as it arrived; retained ones not counted). */
  lastSeen: number | undefined = undefined;

  constructor(
    private readonly link: PortLink,
    readonly name: string,
    /** Where this side publishes for this port. */
    readonly topic: string,
    /** MQTT 5: the responseTopic this side names, where the peer's next message reaches this instance. */
    readonly replyTopic: string,
    readonly role: Role,
    readonly channel: object,
    /** QoS 1 and 2 may deliver a message twice: the core then remembers ended turns. */
    readonly duplicates: boolean,
  ) {}

  /**
   * `extras.timeout` (ms), the attempt's timeout, sets a request's MQTT 5 `messageExpiryInterval`;
   * a message that waits for nothing (an answer) gets the port's `sessionTimeout`.
   */
  send(message: unknown, extras?: TransferExtras): void | Promise<void> {
    return this.link.send(this, message as Record<string, unknown>, extras?.timeout);
  }

  /** Hands an inbound message to every listener. */
  deliver(message: unknown): void {
    const listeners = this.listeners;
    if (listeners.length === 1) listeners[0]!(message);
    else for (const listener of listeners) listener(message);
  }

  onMessage(listener: Listener): () => void {
    this.listeners = [...this.listeners, listener];
    this.subscribed = true;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.listeners = this.listeners.filter((l) => l !== listener);
      // The last listener gone (the core let go of this transport): the link forgets it.
      if (this.listeners.length === 0 && this.subscribed) this.link.detach(this);
    };
  }

  onClose(listener: CloseListener): () => void {
    this.closeListeners = [...this.closeListeners, listener];
    if (this.closed) {
      queueMicrotask(() => {
        if (this.closeListeners.includes(listener)) listener(undefined);
      });
    }
    return () => {
      this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    };
  }

  /** Tells the core this transport is gone (the connection to the broker dropped). */
  shut(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closeListeners) listener(reason);
    this.closeListeners = [];
    this.listeners = [];
    this.link.detach(this);
  }
}
