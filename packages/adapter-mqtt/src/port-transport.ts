import type { Port, Role, Transport } from "psession";
import type { Outgoing } from "./outbox.js";

/** Where the peer asked the next message of a session to go (MQTT 5 responseTopic + correlationData). */
export interface Route {
  topic: string | undefined;
  correlation: Uint8Array | undefined;
}

/** What a port transport asks of the client-wide link it belongs to. */
export interface PortLink {
  send(transport: PortTransport, message: Record<string, unknown>): void | Promise<void>;
  detach(transport: PortTransport): void;
}

/**
 * One port (one device, or a device's one controller) on a shared MQTT client: `send` publishes on
 * the port's topic, `onMessage` gets what the client's single "message" listener routes here by
 * topic, `onClose` fires when the device goes offline or the adapter is closed.
 */
export class PortTransport implements Transport<unknown> {
  port: Port | undefined = undefined;
  listener: ((message: unknown) => void) | undefined = undefined;
  closeListener: ((reason?: unknown) => void) | undefined = undefined;
  closed = false;
  /** MQTT 5 routes by sid, recorded from inbound properties. */
  routes: Map<number, Route> | undefined = undefined;
  /** Own sids holding a slot of the in-flight window. */
  readonly held = new Set<number>();
  /** MQTT.js's publish callback for this port: reports what the broker refused. */
  published: (error?: Error) => void = () => {};
  /** Sends of this port waiting for the connection or a window slot, by sid. */
  readonly queued = new Map<number, Outgoing>();

  constructor(
    private readonly link: PortLink,
    readonly name: string,
    /** Where this side publishes for this port. */
    readonly topic: string,
    /** MQTT 5: the responseTopic this side names, where the peer's next message reaches this instance. */
    readonly replyTopic: string,
    readonly role: Role,
    readonly channel: object,
  ) {}

  send(message: unknown): void | Promise<void> {
    return this.link.send(this, message as Record<string, unknown>);
  }

  onMessage(listener: (message: unknown) => void): () => void {
    this.listener = listener;
    return this.detach;
  }

  onClose(listener: (reason?: unknown) => void): () => void {
    this.closeListener = listener;
    return this.detach;
  }

  /** Called by the core when it lets go of this transport (port destroyed or re-attached). */
  private readonly detach = (): void => {
    this.listener = undefined;
    this.closeListener = undefined;
    this.link.detach(this);
  };

  /** Tells the core this transport is gone (the connection to the broker dropped). */
  shut(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    const listener = this.closeListener;
    if (listener !== undefined) listener(reason);
    this.detach();
  }
}
