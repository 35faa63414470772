import { SessionChannelError } from "psession";
import type { PortTransport } from "./port-transport.js";

/** A send that waits for the connection (subscriptions active) or for a slot of the window. */
export interface Outgoing {
  transport: PortTransport;
  sid: number;
  /** A turn of a session this side opened: it takes a window slot until answered or ended. */
  own: boolean;
  payload: string | Uint8Array;
  /** ms since epoch after which the send is stale and dropped (its session timed out meanwhile). */
  deadline: number;
  resolve: () => void;
  reject: (error: Error) => void;
  dead: boolean;
}

/**
 * The in-flight window and the queues in front of it. Own turns take a slot when published and
 * give it back when the peer answers (or the session ends); beyond `window` slots they wait here,
 * first come first served. While the client is not ready (reconnecting, awaiting SUBACK) every
 * send waits, in order.
 */
export class Outbox {
  inFlight = 0;
  /** The client is connected and subscribed: queued sends may go out. */
  ready = false;
  private unready: Outgoing[] = [];
  private waiting: Outgoing[] = [];
  private head = 0;

  constructor(
    readonly window: number,
    private readonly publish: (item: Outgoing) => void,
  ) {}

  /** True when an own turn for `sid` of `transport` may be published now. */
  hasSlot(transport: PortTransport, sid: number): boolean {
    return transport.held.has(sid) || (this.inFlight < this.window && this.head === this.waiting.length);
  }

  take(transport: PortTransport, sid: number): void {
    if (transport.held.has(sid)) return;
    transport.held.add(sid);
    this.inFlight++;
  }

  /** The peer answered `sid` (or its session ended): its slot goes to the next waiting turn. */
  release(transport: PortTransport, sid: number): void {
    if (!transport.held.delete(sid)) return;
    this.inFlight--;
    this.pump();
  }

  /** Queues a send: until the client is ready, or (an own turn) until a slot frees. */
  enqueue(item: Outgoing): void {
    if (item.own) {
      // Turns are kept by sid: a retry replaces the attempt still waiting, an ended session drops it.
      const previous = item.transport.queued.get(item.sid);
      if (previous !== undefined) this.drop(previous);
      item.transport.queued.set(item.sid, item);
    }
    (this.ready ? this.waiting : this.unready).push(item);
  }

  /** The client is ready again: sends held meanwhile go out in order, own turns through the window. */
  flush(): void {
    this.ready = true;
    const items = this.unready;
    this.unready = [];
    const now = Date.now();
    for (const item of items) {
      if (item.dead) continue;
      if (item.deadline < now) {
        this.expire(item);
        continue;
      }
      if (item.own && !this.hasSlot(item.transport, item.sid)) this.waiting.push(item);
      else this.send(item);
    }
    this.pump();
  }

  /** Moves what `from` has queued to `to` (the same port on a new transport after a reconnect). */
  move(from: PortTransport, to: PortTransport): void {
    for (const list of [this.unready, this.waiting]) {
      for (let i = list === this.waiting ? this.head : 0; i < list.length; i++) {
        const item = list[i]!;
        if (item.transport === from) item.transport = to;
      }
    }
    for (const [sid, item] of from.queued) to.queued.set(sid, item);
    from.queued.clear();
  }

  /** Forgets the queued send of `sid` (its session ended). */
  cancel(transport: PortTransport, sid: number): void {
    const item = transport.queued.get(sid);
    if (item !== undefined) this.drop(item);
  }

  /** Fails every queued send of `transport` (or of every transport) with `error`. */
  fail(error: Error, transport?: PortTransport): void {
    for (const item of [...this.unready, ...this.waiting.slice(this.head)]) {
      if (item.dead || (transport !== undefined && item.transport !== transport)) continue;
      item.dead = true;
      if (item.transport.queued.get(item.sid) === item) item.transport.queued.delete(item.sid);
      item.reject(error);
    }
    if (transport === undefined) {
      this.unready = [];
      this.waiting = [];
      this.head = 0;
    }
  }

  /** Gives back every slot `transport` holds. */
  releaseAll(transport: PortTransport): void {
    this.inFlight -= transport.held.size;
    transport.held.clear();
    this.pump();
  }

  get queuedCount(): number {
    return this.unready.length + this.waiting.length - this.head;
  }

  private pump(): void {
    if (!this.ready) return;
    const waiting = this.waiting;
    let now = 0;
    while (this.inFlight < this.window && this.head < waiting.length) {
      const item = waiting[this.head]!;
      waiting[this.head++] = undefined as unknown as Outgoing;
      if (item.dead) continue;
      if (now === 0) now = Date.now();
      if (item.deadline < now) this.expire(item);
      else this.send(item);
    }
    if (this.head === waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > waiting.length) {
      this.waiting = waiting.slice(this.head);
      this.head = 0;
    }
  }

  private send(item: Outgoing): void {
    if (item.own) item.transport.queued.delete(item.sid);
    if (item.own) this.take(item.transport, item.sid);
    this.publish(item);
  }

  private drop(item: Outgoing): void {
    item.dead = true;
    if (item.transport.queued.get(item.sid) === item) item.transport.queued.delete(item.sid);
    item.resolve();
  }

  private expire(item: Outgoing): void {
    item.dead = true;
    if (item.transport.queued.get(item.sid) === item) item.transport.queued.delete(item.sid);
    // Normally its session has timed out by now and ignores this; if not, the attempt fails (and retries).
    item.reject(
      new SessionChannelError(
        "NOT_OPEN",
        `port "${item.transport.name}": not sent, the MQTT client was not ready in time`,
      ),
    );
  }
}
