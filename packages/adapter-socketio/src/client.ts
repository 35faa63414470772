import {
  attach as attachTransport,
  SessionAbortError,
  SessionChannelError,
  type AttachOptions,
  type Port,
  type SessionManager,
} from "psession";
import { createCodec, LABEL, type Codec } from "./codec.js";
import { emptyBatch, helloFrame, helloOf, newId, parseArguments, readsBatches } from "./frames.js";
import { eventSetting, refuseHeartbeat, type ClientAttachOptions } from "./options.js";
import { SocketIoTransport } from "./transport.js";
import type { ClientSocketLike } from "./types.js";
import { clientWire, NODE } from "./wire.js";

/** Frames a reconnected client holds while it waits for the server's hello (Socket.IO replays). */
const MAX_HELD = 10_000;
/** How long a reconnected client with a parked port waits for the server's hello before it starts afresh. */
const HELLO_WAIT = 10_000;
/** Relays (nodes other than the one connected to) a client answers at once. */
const MAX_RELAYS = 64;

/**
 * Binds a port of `manager` (default "default", role "client") to a `socket.io-client` socket for
 * as long as the socket lives, across Socket.IO's reconnections:
 * - sends made before the socket first connects wait for it;
 * - a disconnect fails the port's pending sends at once (the port is destroyed and made again on
 *   the next connection), or, with `reconnect: true`, parks the port: sends with retries left go
 *   out again once the socket is back and the server kept its side of the sessions;
 * - sessions opened by other nodes of a cluster arrive on a port per node (`<port>@<node>`).
 */
export function attachClient(
  manager: SessionManager,
  socket: ClientSocketLike,
  options: ClientAttachOptions = {},
): Port {
  refuseHeartbeat(options);
  const { event, duplicates, serializer, maxFrameBytes, port, reconnect, ...portOptions } = options;
  const link = new ClientLink(manager, socket, {
    event: eventSetting(event),
    codec: createCodec(serializer, maxFrameBytes),
    name: port ?? "default",
    reconnect: reconnect === true,
    duplicates: duplicates ?? retriesOf(socket),
    portOptions,
  });
  return link.start();
}

interface LinkSettings {
  event: string;
  codec: Codec;
  name: string;
  reconnect: boolean;
  duplicates: boolean;
  portOptions: Omit<AttachOptions, "port" | "reconnect">;
}

interface Relay {
  tag: string;
  transport: SocketIoTransport;
  port: Port;
}

class ClientLink {
  private port: Port | undefined = undefined;
  private transport: SocketIoTransport | undefined = undefined;
  /** The incarnation id of each port this link made (kept while a parked port is re-attached). */
  private readonly incarnations = new WeakMap<Port, string>();
  /** Ports destroyed by this link's own doing (a disconnect, a reset): not a reason to stop. */
  private readonly ended = new WeakSet<Port>();
  /** The server port's incarnation, from its last hello. */
  private serverIncarnation: string | undefined = undefined;
  /** After a reconnect, until the server's hello: frames before it are replays of the previous connection. */
  private waitingHello = false;
  /** `reconnect`: the parked port is re-attached only once the server's hello says it kept its sessions. */
  private held: unknown[] | undefined = undefined;
  private stopped = false;
  /** The server's hello on this connection said it reads batches (see frames.ts). */
  private peerBatches = false;
  private readonly relays = new Map<string, Relay>();
  /** The engine.io connection whose upgrade to a WebSocket is watched (see watchUpgrade). */
  private engine: object | undefined = undefined;

  constructor(
    private readonly manager: SessionManager,
    private readonly socket: ClientSocketLike,
    private readonly settings: LinkSettings,
  ) {}

  start(): Port {
    const port = this.bind();
    this.watchUpgrade();
    if (this.socket.connected) this.hello();
    else this.transport!.hold();
    const s = this.socket;
    s.on(this.settings.event, this.onEvent);
    s.on("connect", this.onConnect);
    s.on("disconnect", this.onDisconnect);
    s.on("connect_error", this.onConnectError);
    return port;
  }

  // ---- socket events ------------------------------------------------------------------------

  private readonly onConnect = (): void => {
    this.guard(() => {
      if (this.stopped) return;
      this.watchUpgrade();
      const current = this.transport;
      if (current !== undefined && !current.closed) {
        // The first connection: the hello goes first, then the sends that waited.
        this.hello();
        current.release();
        return;
      }
      const port = this.port;
      if (port?.destroyed && !this.ended.has(port)) {
        this.stop(); // destroyed by the application while disconnected
        return;
      }
      this.waitingHello = this.serverIncarnation !== undefined;
      if (this.settings.reconnect && port !== undefined && !port.destroyed) {
        this.hello(); // the parked port's incarnation: the server keeps its side only for it
        if (this.waitingHello) {
          this.held = [];
          this.awaitHello();
          return; // decided by the server's hello
        }
        this.bind();
        return;
      }
      this.bind();
      this.hello();
    });
  };

  private readonly onDisconnect = (reason: unknown): void => {
    this.guard(() => {
      this.purgeSendBuffer();
      this.peerBatches = false;
      this.waitingHello = false;
      this.held = undefined;
      const error = new SessionChannelError("CLOSED", `Socket.IO disconnected (${String(reason)})`);
      this.dropRelays(error);
      const transport = this.transport;
      if (transport === undefined || transport.closed) return;
      if (!this.settings.reconnect && this.port !== undefined) this.ended.add(this.port);
      transport.lost(error);
    });
  };

  private readonly onConnectError = (error: unknown): void => {
    this.guard(() => {
      // `active` false: the server refused the connection (a middleware error); no more attempts.
      const transport = this.transport;
      if (this.socket.active || transport === undefined || transport.closed) return;
      const reason = error instanceof Error ? error.message : String(error);
      if (this.port !== undefined) this.ended.add(this.port);
      transport.lost(
        new SessionChannelError("NOT_OPEN", `Socket.IO refused the connection (${reason})`, { cause: error }),
      );
    });
  };

  private readonly onEvent = (...args: unknown[]): void => {
    // No closure and no parsed-arguments object for the common event: one frame, or one batch.
    try {
      if (this.stopped) return;
      const frame = args[0];
      if (args.length === 1 && typeof frame === "object" && frame !== null) this.onFrames(frame);
      else this.onOtherEvent(args);
    } catch (error) {
      this.listenerFailed(error);
    }
  };

  /** Any other shape of psession event: an ack callback, a relay tag, an offset, or bad input. */
  private onOtherEvent(args: unknown[]): void {
    // With connectionStateRecovery the server appends each packet's offset (a string).
    const parsed = parseArguments(args, (this.socket as { _pid?: unknown })._pid !== undefined);
    if (parsed.ack !== undefined) parsed.ack(); // psession answers with frames, never with acks
    if (parsed.error !== undefined) {
      this.report(parsed.error);
      return;
    }
    if (parsed.via !== undefined) {
      if (!this.waitingHello) this.fromRelay(parsed.via, parsed.frame);
      return;
    }
    this.onFrames(parsed.frame);
  }

  /** A frame, or a batch of them. */
  private onFrames(frame: unknown): void {
    if (!Array.isArray(frame)) this.onFrame(frame);
    else if (frame.length === 0) this.report(emptyBatch());
    else for (let i = 0; i < frame.length && !this.stopped; i++) this.onFrame(frame[i]);
  }

  /** One frame from the server, alone or out of a batch. */
  private onFrame(frame: unknown): void {
    const message = this.decode(frame);
    if (message === undefined) return;
    const hello = helloOf(message);
    if (hello !== undefined) {
      this.peerBatches = readsBatches(message);
      if (this.transport !== undefined) this.transport.batching = this.peerBatches;
      this.onHello(hello);
      return;
    }
    if (this.waitingHello) {
      // A replay of the previous connection (connectionStateRecovery): kept for the parked port
      // if the server kept its sessions, dropped otherwise.
      if (this.held !== undefined && this.held.length < MAX_HELD) this.held.push(message);
      return;
    }
    this.transport?.deliver(message);
  }

  /** A server that never says hello on this connection (not psession any more) kept nothing: start afresh. */
  private awaitHello(): void {
    const held = this.held;
    const timer = setTimeout(() => {
      this.guard(() => {
        if (this.held === held && this.waitingHello && !this.stopped) this.onHello("");
      });
    }, HELLO_WAIT) as ReturnType<typeof setTimeout> & { unref?(): unknown };
    timer.unref?.();
  }

  private onHello(id: string): void {
    const previous = this.serverIncarnation;
    this.serverIncarnation = id;
    if (!this.waitingHello) return; // the first connection's hello, or the server reset its port
    this.waitingHello = false;
    const held = this.held;
    this.held = undefined;
    if (held === undefined) return; // a fresh port already: nothing to decide
    const port = this.port;
    if (id === previous && port !== undefined && !port.destroyed) {
      this.bind(); // the parked port, with its sessions: retries go out over this connection
      for (const message of held) this.transport!.deliver(message);
      return;
    }
    if (port !== undefined && !port.destroyed) {
      this.ended.add(port);
      port.destroy(
        new SessionAbortError(
          `port "${port.name}": the server did not keep this connection's sessions (it restarted, or this is another node)`,
        ),
      );
    }
    this.bind();
    this.hello();
  }

  // ---- ports --------------------------------------------------------------------------------

  /** Attaches a new transport to the port (the parked one, or a new port under the name). */
  private bind(): Port {
    const { codec, duplicates, name, reconnect, portOptions, event } = this.settings;
    const socket = this.socket;
    const transport: SocketIoTransport = new SocketIoTransport({
      role: "client",
      channel: socket,
      duplicates,
      codec,
      out: (frame) => {
        if (!socket.connected) throw notConnected();
        socket.emit(event, frame);
      },
      ready: () => {
        if (!socket.connected) throw notConnected();
      },
      close: () => void socket.disconnect(),
      released: () => this.released(transport),
      wire: NODE ? () => clientWire(socket) : undefined,
    });
    const port = attachTransport(this.manager, transport, { ...portOptions, port: name, reconnect });
    transport.batching = this.peerBatches;
    this.transport = transport;
    this.port = port;
    if (!this.incarnations.has(port)) this.incarnations.set(port, newId());
    return port;
  }

  /**
   * Node: engine.io-client drops its WebSocket when the connection closes, so the transport finds
   * the TCP socket under it (for its byte counts) as soon as it opens: when made, or on the
   * engine's upgrade from long-polling. One listener per engine.io connection, none per message.
   */
  private watchUpgrade(): void {
    if (!NODE) return;
    this.upgraded(); // open already (a WebSocket from the start, or upgraded before the connect)
    const engine = (this.socket as { io?: { engine?: { once?(event: string, listener: () => void): unknown } } }).io
      ?.engine;
    if (engine === undefined || engine === this.engine || typeof engine.once !== "function") return;
    this.engine = engine;
    engine.once("upgrade", this.upgraded);
  }

  private readonly upgraded = (): void => {
    const transport = this.transport;
    if (transport !== undefined && !transport.closed) transport.probeWire();
  };

  /** psession let go of a transport: expected when it closed; otherwise the application took the port away. */
  private released(transport: SocketIoTransport): void {
    if (transport.closed || transport !== this.transport) return;
    this.stop();
  }

  private hello(): void {
    const id = this.port === undefined ? undefined : this.incarnations.get(this.port);
    if (id === undefined || !this.socket.connected) return;
    try {
      this.socket.emit(this.settings.event, this.settings.codec.encode(helloFrame(id)));
    } catch (error) {
      this.report(error);
    }
  }

  /** A frame of a session another node opened: each node has its own port, `<port>@<node>`. */
  private fromRelay(tag: string, frame: unknown): void {
    const slash = tag.lastIndexOf("/");
    const node = slash > 0 ? tag.slice(0, slash) : tag;
    let relay = this.relays.get(node);
    if (relay !== undefined && relay.tag !== tag) {
      // That node made a new relay toward us: the old one's sessions are over.
      this.relays.delete(node);
      relay.transport.lost(new SessionChannelError("CLOSED", `node ${node} replaced its relay`));
      relay = undefined;
    }
    const message = this.decode(frame);
    if (message === undefined || helloOf(message) !== undefined) return;
    if (relay === undefined) {
      if (this.relays.size >= MAX_RELAYS) {
        this.report(
          new SessionChannelError("DECODE_FAILED", `frame from node ${node} dropped: already ${MAX_RELAYS} relays`),
        );
        return;
      }
      relay = this.openRelay(node, tag);
    }
    relay.transport.deliver(message);
  }

  private openRelay(node: string, tag: string): Relay {
    const { codec, duplicates, name, portOptions, event } = this.settings;
    const socket = this.socket;
    const transport: SocketIoTransport = new SocketIoTransport({
      role: "client",
      channel: undefined,
      duplicates,
      codec,
      out: (frame) => {
        if (!socket.connected) throw new SessionChannelError("NOT_OPEN", "Socket.IO is not connected");
        socket.emit(event, frame, { via: tag });
      },
      released: () => {
        if (this.relays.get(node)?.transport === transport) this.relays.delete(node);
      },
    });
    const port = attachTransport(this.manager, transport, { ...portOptions, port: `${name}@${node}` });
    const relay = { tag, transport, port };
    this.relays.set(node, relay);
    return relay;
  }

  private dropRelays(reason: Error): void {
    const relays = [...this.relays.values()];
    this.relays.clear();
    for (const relay of relays) relay.transport.lost(reason);
  }

  /** psession no longer holds this socket: remove every listener; the socket stays the application's. */
  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const s = this.socket;
    s.off(this.settings.event, this.onEvent);
    s.off("connect", this.onConnect);
    s.off("disconnect", this.onDisconnect);
    s.off("connect_error", this.onConnectError);
    const reason = new SessionChannelError("CLOSED", "psession let go of the socket");
    this.dropRelays(reason);
    this.transport?.lost(reason);
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** The message in a frame, or undefined (reported) when it is not one. */
  private decode(frame: unknown): unknown {
    try {
      return this.settings.codec.decode(frame);
    } catch (error) {
      this.report(error);
      // Rule of every adapter: a frame over the limit closes the connection.
      if (error instanceof SessionChannelError && error.code === "FRAME_TOO_LARGE") this.socket.disconnect();
      return undefined;
    }
  }

  /**
   * Frames emitted while Socket.IO thought it was connected but was not (its ping had expired) wait
   * in its send buffer for the next connection. psession has failed or will retry them itself:
   * they must not reach the next connection as stale turns.
   */
  private purgeSendBuffer(): void {
    const buffer = (this.socket as { sendBuffer?: { data?: unknown[] }[] }).sendBuffer;
    if (!Array.isArray(buffer)) return;
    const event = this.settings.event;
    for (let i = buffer.length - 1; i >= 0; i--) if (buffer[i]?.data?.[0] === event) buffer.splice(i, 1);
  }

  private report(error: unknown): void {
    const port = this.port;
    this.manager.report(error, port !== undefined && !port.destroyed ? port : undefined);
  }

  /** Nothing thrown in a socket listener may reach Socket.IO's emitter. */
  private guard(body: () => void): void {
    try {
      body();
    } catch (error) {
      this.listenerFailed(error);
    }
  }

  /** A socket listener threw: reported, never thrown into Socket.IO. */
  private listenerFailed(error: unknown): void {
    try {
      const reason = error instanceof Error ? error.message : String(error);
      this.report(
        new SessionChannelError("CLOSED", `${LABEL}: a socket listener failed (${reason})`, { cause: error }),
      );
    } catch {
      // reporting never throws
    }
  }
}

/** Socket.IO's `retries` option makes every emit at-least-once: the channel may then deliver twice. */
function notConnected(): SessionChannelError {
  return new SessionChannelError("NOT_OPEN", "Socket.IO is not connected");
}

function retriesOf(socket: ClientSocketLike): boolean {
  const opts = (socket as { _opts?: { retries?: unknown } })._opts;
  return typeof opts?.retries === "number" && opts.retries > 0;
}
