import {
  attach as attachTransport,
  SessionChannelError,
  type AttachOptions,
  type Port,
  type SessionManager,
} from "psession";
import { LABEL, type Codec } from "./codec.js";
import { helloOf, newId } from "./frames.js";
import { SocketIoTransport } from "./transport.js";
import type { NamespaceLike, ServerSocketLike } from "./types.js";

type Timer = ReturnType<typeof setInterval> & { unref?(): unknown };

export interface ClusterSetup {
  manager: SessionManager;
  nsp: NamespaceLike;
  event: string;
  codec: Codec;
  duplicates: boolean;
  portOptions: Omit<AttachOptions, "port" | "reconnect">;
  nodeId: string;
  relayIdle: number;
  /** Another node accepted a client under `name`: end this node's connection or parked port of that name. */
  movedAway(name: string, socketId: string): void;
}

interface Relay {
  readonly name: string;
  readonly tag: string;
  readonly transport: SocketIoTransport;
  port: Port | undefined;
  /** The client's socket id, once known (from its frames or its node's announcement). */
  socketId: string | undefined;
  active: boolean;
}

/**
 * Sessions with clients connected to other nodes. This node reaches such a client through a
 * relay port named like the client's own port:
 * - toward the client, frames go to the Socket.IO room of its port name (every local connection
 *   joins `<event>#<name>`): the adapter (Redis) carries them to whichever node holds it, tagged
 *   `{ via: "<node>/<n>" }` so that the client answers them on a port of their own;
 * - back, the client's node relays them to this node with one `serverSideEmit` (fire and forget:
 *   no node waits for all the others, so a slow node delays nobody);
 * - a node announces when it accepts a client and when it loses one: relays toward a client that
 *   disconnected fail their pending sends at once.
 * Every frame is decoded and checked again on the receiving node, as if it came from a socket.
 */
export class Cluster {
  readonly nodeId: string;
  private readonly control: string;
  private readonly relays = new Map<string, Relay>();
  private counter = 0;
  private closed = false;
  private readonly offResolver: () => void;
  /** Runs only while there are relays: a node with none holds no timer. */
  private sweeper: Timer | undefined = undefined;

  constructor(private readonly setup: ClusterSetup) {
    this.nodeId = setup.nodeId;
    this.control = `${setup.event}:cluster`;
    setup.nsp.on(this.control, this.onControl);
    this.offResolver = setup.manager.addPortResolver((name) => this.resolve(name));
  }

  /** The room every local connection of port `name` joins. */
  room(name: string): string {
    return `${this.setup.event}#${name}`;
  }

  /** A local connection was attached under `name`. */
  connected(name: string, socket: ServerSocketLike): void {
    socket.join(this.room(name));
    this.announce("up", name, socket.id);
  }

  /** A local connection under `name` ended. */
  disconnected(name: string, socketId: string): void {
    this.announce("gone", name, socketId);
  }

  /** A client connects here under a name this node reached through a relay: the relay's sessions end. */
  takeover(name: string): void {
    const relay = this.relays.get(name);
    if (relay === undefined) return;
    this.relays.delete(name);
    relay.transport.lost(new SessionChannelError("CLOSED", `the client of port "${name}" connected to this node`));
  }

  /** A frame a local client sent toward a relay (`tag`) of some node. */
  fromClient(name: string, tag: string, frame: unknown, socketId: string): void {
    const node = nodeOf(tag);
    if (node === this.nodeId) this.receive(tag, name, frame, socketId);
    else this.emit("frame", node, tag, name, frame, socketId);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.offResolver();
    this.setup.nsp.off(this.control, this.onControl);
    const reason = new SessionChannelError("CLOSED", "the server was detached");
    for (const relay of [...this.relays.values()]) relay.transport.lost(reason);
    this.relays.clear();
  }

  // ---- relays -------------------------------------------------------------------------------

  /** `manager.createSession(name)` for a name no local port has: a relay toward wherever that client is. */
  private resolve(name: string): Port | undefined {
    if (this.closed) return undefined;
    const tag = `${this.nodeId}/${++this.counter}`;
    const { nsp, event, codec, duplicates, manager, portOptions } = this.setup;
    const room = this.room(name);
    const relay: Relay = {
      name,
      tag,
      port: undefined,
      socketId: undefined,
      active: true,
      transport: new SocketIoTransport({
        role: "server",
        channel: undefined,
        duplicates,
        codec,
        out: (frame) => {
          relay.active = true;
          nsp.to(room).emit(event, frame, { via: tag });
        },
        released: () => {
          if (this.relays.get(name) === relay) this.relays.delete(name);
          this.idle();
        },
      }),
    };
    relay.port = attachTransport(manager, relay.transport, { ...portOptions, port: name });
    this.relays.set(name, relay);
    if (this.sweeper === undefined) {
      const sweeper = setInterval(this.sweep, this.setup.relayIdle) as Timer;
      sweeper.unref?.();
      this.sweeper = sweeper;
    }
    return relay.port;
  }

  private receive(tag: string, name: string, frame: unknown, socketId: string): void {
    const relay = this.relays.get(name);
    if (relay === undefined || relay.tag !== tag) return; // a relay that has ended: its sessions are over
    let message: unknown;
    try {
      message = this.setup.codec.decode(frame);
    } catch (error) {
      this.report(error, relay.port);
      return;
    }
    if (helloOf(message) !== undefined) return;
    relay.socketId = socketId;
    relay.active = true;
    relay.transport.deliver(message);
  }

  /** Relays idle for a whole period (no session, no frame) are dropped: unknown names do not pile up. */
  /** The last relay ended: no sweeping until the next one. */
  private idle(): void {
    if (this.relays.size > 0 || this.sweeper === undefined) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private readonly sweep = (): void => {
    for (const relay of [...this.relays.values()]) {
      if (!relay.active && (relay.port === undefined || relay.port.size === 0)) {
        this.relays.delete(relay.name);
        relay.transport.lost(new SessionChannelError("CLOSED", "relay idle"));
      } else relay.active = false;
    }
  };

  // ---- announcements ------------------------------------------------------------------------

  private announce(kind: "up" | "gone", name: string, socketId: string): void {
    this.emit(kind, name, socketId, this.nodeId);
  }

  private emit(kind: string, ...args: unknown[]): void {
    try {
      this.setup.nsp.serverSideEmit(this.control, kind, ...args);
    } catch (error) {
      this.report(error, undefined);
    }
  }

  /** What other nodes say. Checked like any input: a bad one is reported, never thrown. */
  private readonly onControl = (...args: unknown[]): void => {
    try {
      if (this.closed) return;
      const [kind, a, b, c, d, e] = args;
      if (kind === "frame" && isText(a) && isText(b) && isText(c) && isText(e)) {
        if (a === this.nodeId) this.receive(b, c, d, e);
        return;
      }
      if ((kind === "up" || kind === "gone") && isText(a) && isText(b) && isText(c)) {
        if (c === this.nodeId) return;
        const relay = this.relays.get(a);
        if (kind === "up") {
          if (relay !== undefined) relay.socketId = b;
          this.setup.movedAway(a, b);
        } else if (relay !== undefined && (relay.socketId === undefined || relay.socketId === b)) {
          this.relays.delete(a);
          relay.transport.lost(
            new SessionChannelError("CLOSED", `the client of port "${a}" disconnected from node ${c}`),
          );
        }
        return;
      }
      this.report(
        new SessionChannelError("DECODE_FAILED", `${LABEL}: a cluster message of unknown shape was dropped`),
        undefined,
      );
    } catch (error) {
      this.report(error, undefined);
    }
  };

  private report(error: unknown, port: Port | undefined): void {
    this.setup.manager.report(error, port !== undefined && !port.destroyed ? port : undefined);
  }
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 1024;
}

export function nodeOf(tag: string): string {
  const slash = tag.lastIndexOf("/");
  return slash > 0 ? tag.slice(0, slash) : tag;
}

export function newNodeId(): string {
  return newId();
}
