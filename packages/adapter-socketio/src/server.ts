import {
  attachConnections,
  DEFAULT_MAX_FRAME_BYTES,
  SessionAbortError,
  SessionChannelError,
  type AttachOptions,
  type ConnectionPorts,
  type Port,
  type SessionManager,
} from "psession";
import { Cluster } from "./cluster.js";
import { createCodec, LABEL, type Codec } from "./codec.js";
import { emptyBatch, helloFrame, helloOf, newId, parseArguments, readsBatches } from "./frames.js";
import {
  delaySetting,
  eventSetting,
  refuseHeartbeat,
  type ServerAttachOptions,
  type SocketIoPorts,
} from "./options.js";
import { SocketIoTransport } from "./transport.js";
import type { NamespaceLike, ServerLike, ServerSocketLike } from "./types.js";
import { serverWire } from "./wire.js";

type Timer = ReturnType<typeof setTimeout> & { unref?(): unknown };

/** How long a port that kept its sessions waits for the client's hello before it starts afresh. */
const HELLO_WAIT = 10_000;

/** What this server knows of each port it made: its incarnation and the client's. */
interface Incarnation {
  readonly id: string;
  /** The client port's incarnation, from its hello. */
  peer: string | undefined;
  /** Bumped on every disconnect, so an older park timer does nothing. */
  parked: number;
}

interface Context {
  manager: SessionManager;
  event: string;
  codec: Codec;
  duplicates: boolean;
  reconnect: boolean;
  parkFor: number;
  records: WeakMap<Port, Incarnation>;
  /** The live link of each port name. */
  live: Map<string, ServerLink>;
  links: Map<ServerSocketLike, ServerLink>;
  timers: Set<Timer>;
  cluster: Cluster | undefined;
  accept(socket: ServerSocketLike): void;
}

/**
 * Gives every connection of a Socket.IO server (its main namespace) or namespace its own port,
 * through the core's `attachConnections`. Sockets already connected are attached at once.
 */
export function attachServer<S extends ServerSocketLike = ServerSocketLike>(
  manager: SessionManager,
  target: ServerLike<S> | NamespaceLike<S>,
  typedOptions: ServerAttachOptions<S> = {},
): SocketIoPorts<S> {
  // Inside, every socket is a ServerSocketLike; `S` is the application's own socket type.
  const options = typedOptions as unknown as ServerAttachOptions;
  refuseHeartbeat(options);
  const { event, duplicates, serializer, maxFrameBytes, reconnectWithin, cluster, portName, onConnection, ...rest } =
    options;
  const nsp = namespaceOf(target as unknown as ServerLike);
  const { reconnect: _reconnect, role: _role, ...relayOptions } = rest;
  let acceptOne: ((socket: ServerSocketLike, info: undefined) => void) | undefined;
  const ctx: Context = {
    manager,
    event: eventSetting(event),
    codec: createCodec(serializer, frameLimit(nsp, maxFrameBytes)),
    duplicates: duplicates === true,
    reconnect: rest.reconnect === true,
    parkFor: delaySetting(reconnectWithin, recoveryWindow(nsp) ?? 120_000, "reconnectWithin"),
    records: new WeakMap(),
    live: new Map(),
    links: new Map(),
    timers: new Set(),
    cluster: undefined,
    accept: (socket) => acceptOne?.(socket, undefined),
  };
  if (cluster !== undefined && cluster !== false) {
    const settings = cluster === true ? {} : cluster;
    if (isInMemory(nsp)) {
      throw new TypeError(
        `${LABEL}: cluster needs a Socket.IO adapter that reaches other nodes (such as @socket.io/redis-adapter)`,
      );
    }
    ctx.cluster = new Cluster({
      manager,
      nsp,
      event: ctx.event,
      codec: ctx.codec,
      duplicates: ctx.duplicates,
      portOptions: relayOptions as Omit<AttachOptions, "port" | "reconnect">,
      nodeId: settings.nodeId ?? newId(),
      relayIdle: delaySetting(settings.relayIdle, 60_000, "cluster.relayIdle"),
      movedAway: (name, socketId) => movedAway(ctx, name, socketId),
    });
  }

  const onSocket = (socket: ServerSocketLike): void => {
    try {
      if (ctx.links.has(socket) || !socket.connected) return;
      let name: string | Error;
      try {
        name = portName !== undefined ? portName(socket, undefined) : defaultName(socket);
      } catch (error) {
        name = error instanceof Error ? error : new Error(String(error));
      }
      const link = new ServerLink(ctx, socket, name);
      ctx.links.set(socket, link);
      if (typeof name === "string" && name !== "") ctx.cluster?.takeover(name);
      ctx.accept(socket);
      if (link.port === undefined) link.stop(); // refused
    } catch (error) {
      manager.report(error, undefined);
    }
  };

  const handle: ConnectionPorts<ServerSocketLike> = attachConnections<ServerSocketLike, undefined, SocketIoTransport>(
    manager,
    {
      label: LABEL,
      listen(accept) {
        acceptOne = accept;
        nsp.on("connection", onSocket);
        for (const socket of [...nsp.sockets.values()]) onSocket(socket as ServerSocketLike);
        return () => void nsp.off("connection", onSocket);
      },
      defaultName: (socket) => socket.id,
      transport: (socket) => ctx.links.get(socket)!.transport(),
      end(socket) {
        socket.disconnect();
      },
    },
    {
      ...rest,
      // Always a portName, so that a reconnecting client's auth.id finds its port (a default
      // name would get a "#2" suffix instead).
      portName: (socket) => {
        const name = ctx.links.get(socket)?.name;
        if (name instanceof Error) throw name;
        return name ?? defaultName(socket);
      },
      onConnection(port, socket, transport) {
        ctx.links.get(socket)?.attached(port, transport);
        onConnection?.(port, socket, transport);
      },
    },
  );

  const ports: SocketIoPorts = {
    ports: handle.ports,
    portOf: handle.portOf,
    nodeId: ctx.cluster?.nodeId,
    close(closeOptions) {
      for (const timer of ctx.timers) clearTimeout(timer);
      ctx.timers.clear();
      ctx.cluster?.close();
      handle.close(closeOptions);
      for (const link of [...ctx.links.values()]) link.stop();
    },
  };
  return ports as unknown as SocketIoPorts<S>;
}

/** One connection's listeners and its current transport. */
class ServerLink {
  private current: SocketIoTransport | undefined = undefined;
  /** The port attachConnections gave this connection (the latest, after a reset). */
  port: Port | undefined = undefined;
  private heardHello = false;
  /** The client's hello said it reads batches (see frames.ts). */
  private peerBatches = false;
  private resetting = false;
  private stopped = false;

  constructor(
    private readonly ctx: Context,
    readonly socket: ServerSocketLike,
    readonly name: string | Error,
  ) {
    socket.on(ctx.event, this.onEvent);
    socket.on("disconnect", this.onDisconnect);
  }

  /** A transport for attachConnections (called again when the port is reset). */
  transport(): SocketIoTransport {
    const { socket, ctx } = this;
    const transport: SocketIoTransport = new SocketIoTransport({
      role: "server",
      channel: socket,
      duplicates: ctx.duplicates,
      codec: ctx.codec,
      out: (frame) => {
        if (!socket.connected) throw connectionClosed();
        socket.emit(ctx.event, frame);
      },
      ready: () => {
        if (!socket.connected) throw connectionClosed();
      },
      close: () => void socket.disconnect(),
      released: () => {
        if (transport.closed || this.resetting || transport !== this.current) return;
        this.stop(); // psession let go of an open connection: it is the application's now
      },
      // engine.io keeps its closed transport: the socket is found even after a disconnect.
      wire: () => serverWire(socket),
    });
    transport.batching = this.peerBatches;
    this.current = transport;
    return transport;
  }

  /** attachConnections attached `transport` to `port` (new, parked, or moved from an older connection). */
  attached(port: Port, transport: SocketIoTransport): void {
    const { ctx } = this;
    this.port = port;
    let record = ctx.records.get(port);
    const continuing = record?.peer !== undefined;
    if (record === undefined) ctx.records.set(port, (record = { id: newId(), peer: undefined, parked: 0 }));
    record.parked++;
    // A port that kept sessions talks only once the client said it kept its own.
    if (continuing && !this.heardHello) {
      transport.hold();
      this.awaitHello(port);
    }
    this.say(helloFrame(record.id));
    if (typeof this.name === "string") {
      ctx.live.set(this.name, this);
      ctx.cluster?.connected(this.name, this.socket);
    }
  }

  /** Stops listening to the connection; its transport ends (sends waiting in it reject). */
  stop(reason: Error = new SessionChannelError("CLOSED", "psession let go of the connection")): void {
    if (this.stopped) return;
    this.stopped = true;
    this.socket.off(this.ctx.event, this.onEvent);
    this.socket.off("disconnect", this.onDisconnect);
    if (this.ctx.links.get(this.socket) === this) this.ctx.links.delete(this.socket);
    if (typeof this.name === "string" && this.ctx.live.get(this.name) === this) this.ctx.live.delete(this.name);
    this.current?.lost(reason);
  }

  private readonly onEvent = (...args: unknown[]): void => {
    try {
      if (this.stopped) return;
      // The common event, one frame or one batch, skips parseArguments and its result object.
      const frame = args[0];
      if (args.length === 1 && typeof frame === "object" && frame !== null) this.onFrames(frame);
      else this.onOtherEvent(args);
    } catch (error) {
      this.crashed(error);
    }
  };

  /** Any other shape of psession event: an ack callback, a relay tag, or bad input. */
  private onOtherEvent(args: unknown[]): void {
    const parsed = parseArguments(args, false);
    // A client with Socket.IO `retries` waits for an ack of every emit: acknowledge receipt.
    if (parsed.ack !== undefined) parsed.ack();
    if (parsed.error !== undefined) {
      this.report(parsed.error);
      return;
    }
    if (parsed.via !== undefined) {
      const cluster = this.ctx.cluster;
      if (cluster !== undefined && typeof this.name === "string")
        cluster.fromClient(this.name, parsed.via, parsed.frame, this.socket.id);
      else
        this.report(
          new SessionChannelError("DECODE_FAILED", "event dropped: a relay tag, but this server is not clustered"),
        );
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

  /** One frame from the client, alone or out of a batch. */
  private onFrame(frame: unknown): void {
    let message: unknown;
    try {
      message = this.ctx.codec.decode(frame);
    } catch (error) {
      this.report(error);
      // Disconnecting emits "disconnect" at once: the rest of a batch is not read (stopped).
      if (error instanceof SessionChannelError && error.code === "FRAME_TOO_LARGE") this.socket.disconnect();
      return;
    }
    const hello = helloOf(message);
    if (hello === undefined) {
      this.current?.deliver(message);
      return;
    }
    this.peerBatches = readsBatches(message);
    if (this.current !== undefined) this.current.batching = this.peerBatches;
    this.onHello(hello);
  }

  /** A client that never says hello (not psession, or gone quiet) cannot have kept anything: start afresh. */
  private awaitHello(port: Port): void {
    const { ctx } = this;
    const timer = setTimeout(() => {
      ctx.timers.delete(timer);
      try {
        if (!this.heardHello && !this.stopped && this.port === port && !port.destroyed) this.reset(port, undefined);
      } catch (error) {
        this.crashed(error);
      }
    }, HELLO_WAIT) as Timer;
    timer.unref?.();
    ctx.timers.add(timer);
  }

  private onHello(id: string): void {
    const first = !this.heardHello;
    this.heardHello = true;
    const port = this.port;
    const record = port === undefined ? undefined : this.ctx.records.get(port);
    if (port === undefined || record === undefined || port.destroyed) return;
    if (first && record.peer !== undefined && record.peer !== id) {
      this.reset(port, id);
      return;
    }
    record.peer = id;
    this.current?.release();
  }

  /**
   * The client did not keep its sessions (it restarted, or came without `reconnect`): this port's
   * are stale. They end without a word to the client, and the connection gets a fresh port.
   */
  private reset(port: Port, peer: string | undefined): void {
    this.resetting = true;
    try {
      this.current?.mute();
      port.destroy(
        new SessionAbortError(`${port}: the client did not keep its sessions (it restarted or reconnected afresh)`),
      );
    } finally {
      this.resetting = false;
    }
    this.ctx.accept(this.socket);
    const fresh = this.port;
    const record = fresh === undefined || fresh === port ? undefined : this.ctx.records.get(fresh);
    if (record !== undefined) record.peer = peer;
  }

  private readonly onDisconnect = (reason: unknown): void => {
    try {
      const { ctx } = this;
      const port = this.port;
      const live = typeof this.name === "string" && ctx.live.get(this.name) === this;
      this.stop(new SessionChannelError("CLOSED", `Socket.IO disconnected (${String(reason)})`));
      // Still attached: a newer connection under the same name took the port over (superseded).
      const movedOn = port !== undefined && !port.destroyed && port.attached;
      if (port !== undefined && ctx.reconnect && !port.destroyed && !movedOn) park(ctx, port);
      if (live && !movedOn && typeof this.name === "string") ctx.cluster?.disconnected(this.name, this.socket.id);
    } catch (error) {
      this.crashed(error);
    }
  };

  private say(message: object): void {
    try {
      if (this.socket.connected) this.socket.emit(this.ctx.event, this.ctx.codec.encode(message));
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    const port = this.port;
    this.ctx.manager.report(error, port !== undefined && !port.destroyed ? port : undefined);
  }

  /** Nothing thrown in a socket listener may reach Socket.IO's emitter. */
  private crashed(error: unknown): void {
    try {
      const reason = error instanceof Error ? error.message : String(error);
      this.report(new SessionChannelError("CLOSED", `a socket listener failed (${reason})`, { cause: error }));
    } catch {
      // reporting never throws
    }
  }
}

/** A disconnected client's port waits `parkFor` ms for it, then ends: names that never come back do not pile up. */
function park(ctx: Context, port: Port): void {
  const record = ctx.records.get(port);
  if (record === undefined) return;
  const generation = ++record.parked;
  const timer = setTimeout(() => {
    ctx.timers.delete(timer);
    if (record.parked !== generation || port.destroyed || port.attached) return;
    port.destroy(new SessionAbortError(`${port}: the client did not reconnect within ${ctx.parkFor} ms`));
  }, ctx.parkFor) as Timer;
  timer.unref?.();
  ctx.timers.add(timer);
}

/** Another node accepted the client of `name`: this node's connection (or parked port) of that name ends. */
function movedAway(ctx: Context, name: string, socketId: string): void {
  const link = ctx.live.get(name);
  if (link !== undefined && link.socket.id !== socketId) {
    ctx.manager.report(
      new SessionChannelError(
        "SUPERSEDED",
        `port "${name}": the client connected to another node; this connection is closed`,
      ),
      link.port,
    );
    link.socket.disconnect();
  }
  const port = ctx.manager.ports.get(name);
  if (port !== undefined && ctx.records.has(port) && !port.attached && !port.destroyed) {
    port.destroy(new SessionAbortError(`${port}: the client reconnected to another node`));
  }
}

/** `socket.handshake.auth.id` when the client sends a string, else the socket id. */
function defaultName(socket: ServerSocketLike): string {
  const id = socket.handshake?.auth?.id;
  return typeof id === "string" && id !== "" && id.length <= 256 ? id : socket.id;
}

function namespaceOf(target: ServerLike | NamespaceLike): NamespaceLike {
  return typeof (target as ServerLike).of === "function" ? (target as ServerLike).sockets : (target as NamespaceLike);
}

/**
 * Socket.IO closes a connection whose packet is over `maxHttpBufferSize` (default 1e6 bytes)
 * before psession sees it, without a word to the application. So psession's own limit stays under
 * it: by default the smaller of the two (less a packet's framing), and a larger one is refused.
 */
function frameLimit(nsp: NamespaceLike, maxFrameBytes: number | undefined): number | undefined {
  const server = (
    nsp as { server?: { engine?: { opts?: { maxHttpBufferSize?: unknown } }; opts?: { maxHttpBufferSize?: unknown } } }
  ).server;
  const engineMax = server?.engine?.opts?.maxHttpBufferSize ?? server?.opts?.maxHttpBufferSize ?? 1e6;
  if (typeof engineMax !== "number" || !(engineMax > 0)) return maxFrameBytes;
  if (maxFrameBytes === undefined)
    return Math.max(1, Math.min(DEFAULT_MAX_FRAME_BYTES, Math.floor(engineMax) - PACKET_FRAMING));
  if (maxFrameBytes > engineMax) {
    throw new RangeError(
      `${LABEL}: maxFrameBytes ${maxFrameBytes} is over the server's maxHttpBufferSize ${engineMax}: Socket.IO would close the connection first; raise maxHttpBufferSize too`,
    );
  }
  return maxFrameBytes;
}

/** What a Socket.IO event packet adds around its argument: `42/namespace,123["psession",…]`. */
const PACKET_FRAMING = 256;

function recoveryWindow(nsp: NamespaceLike): number | undefined {
  const server = (nsp as { server?: { opts?: { connectionStateRecovery?: { maxDisconnectionDuration?: unknown } } } })
    .server;
  const recovery = server?.opts?.connectionStateRecovery;
  if (recovery === undefined) return undefined;
  const ms = recovery.maxDisconnectionDuration;
  return typeof ms === "number" && ms > 0 ? ms : 120_000;
}

/** Socket.IO's own in-memory adapter (one node): its serverSideEmit only prints a warning. */
function isInMemory(nsp: NamespaceLike): boolean {
  const name = (nsp.adapter as { constructor?: { name?: string } }).constructor?.name;
  return name === "Adapter" || name === "SessionAwareAdapter";
}

function connectionClosed(): SessionChannelError {
  return new SessionChannelError("CLOSED", "the Socket.IO connection is closed");
}
