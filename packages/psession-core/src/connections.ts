import { attach, type AttachOptions } from "./attach.js";
import { SessionAbortError, SessionChannelError, SessionError } from "./errors.js";
import type { SessionManager } from "./manager.js";
import type { Port } from "./port.js";
import { DEFAULT_MAX_FRAME_BYTES, type Serializer } from "./serializer.js";
import type { Transport } from "./transport.js";

/** The `heartbeat` option of every adapter: the same names, defaults and meaning everywhere. */
export interface HeartbeatOptions {
  /** Milliseconds of silence from the peer (no frame, no pong) after which it is pinged. */
  interval: number;
  /**
   * Milliseconds to wait after a ping for any sign of life (a pong or any frame) before the
   * connection is closed with `HEARTBEAT_TIMEOUT`. Counted from the ping, so any value, smaller
   * than `interval` included, never closes a healthy idle connection. Default: `interval`.
   */
  timeout?: number;
}

/** Options of every adapter's `attach(manager, channel)`: the core's, plus the channel's. */
export interface ChannelOptions extends AttachOptions {
  /** Frame codec. Each adapter has its own default (JSON text for ws and net). */
  serializer?: Serializer;
  /** Ping an idle peer and close a silent one. Off by default. */
  heartbeat?: HeartbeatOptions;
  /** Largest frame accepted or sent, in bytes. Default `DEFAULT_MAX_FRAME_BYTES` (1 MiB). */
  maxFrameBytes?: number;
}

/** Options of every adapter's `attach(manager, server)`: every connection's port gets them. */
export interface ConnectionPortsOptions<C, I = unknown, T extends Transport = Transport>
  extends Omit<ChannelOptions, "port"> {
  /**
   * Names the port of a new connection (default: the adapter's, such as `remoteAddress:remotePort`).
   * A name a live connection holds moves that port to the new connection and closes the older one
   * (`SUPERSEDED`); the port's sessions, all the older peer's, abort at once with a
   * `SessionAbortError` ("superseded"). A name held by a port this server did not create (the
   * manager's "default", a `createPort()` port, another `attach()`) refuses the connection. A
   * `portName` that throws refuses the connection. Every refusal is reported on the manager's
   * "error" event. The name decides which peer a port talks to: derive it from an authenticated
   * identity (a verified token, a client certificate), never from what the client merely claims.
   */
  portName?(connection: C, info: I): string;
  /** Called for every connection once its port is attached. */
  onConnection?(port: Port, connection: C, transport: T): void;
}

/** What every adapter's `attach(manager, server)` returns. */
export interface ConnectionPorts<C> {
  /** The port of every connection psession holds (live and attached). */
  readonly ports: ReadonlyMap<C, Port>;
  /** The port of `connection`, while psession holds it. */
  portOf(connection: C): Port | undefined;
  /**
   * Detaches psession: no new connections are attached, and every port this server made is
   * destroyed (pending sessions reject with SessionAbortError). The connections stay open unless
   * `closeConnections` is true. Idempotent.
   */
  close(options?: { closeConnections?: boolean }): void;
}

/** Why `ConnectionSource.end` is asked to end a connection. */
export type EndReason = "superseded" | "refused" | "closed";

/** What an adapter tells `attachConnections` about its kind of server. */
export interface ConnectionSource<C, I, T extends Transport> {
  /** Names the adapter in messages, such as "@psession/ws". */
  readonly label: string;
  /** Calls `accept` for every new connection; returns what stops it. */
  listen(accept: (connection: C, info: I) => void): () => void;
  /** The port name when no `portName` is given; made unique on the manager with a `#2` suffix. */
  defaultName(connection: C, info: I): string;
  /** Wraps one connection in a transport (its `role` is "server"). May throw: the connection is refused. */
  transport(connection: C, info: I): T;
  /** Ends a connection: superseded by a newer one, refused, or `close({ closeConnections: true })`. */
  end(connection: C, why: EndReason, reason: SessionError): void;
}

interface Entry<C> {
  readonly connection: C;
  port: Port | undefined;
  /** psession is attached to this connection's transport. */
  bound: boolean;
}

interface Registration {
  readonly ports: ReadonlyMap<unknown, Port>;
}

const registry = new WeakMap<SessionManager, Set<Registration>>();

/**
 * "Every connection is its own port", for any kind of server: each connection `source.listen`
 * announces is wrapped by `source.transport` and attached as its own port, that port living as
 * long as the connection (or, with `reconnect`, until the next connection under its name).
 * The one implementation behind every adapter's `attach(manager, server)`.
 */
export function attachConnections<C extends object, I, T extends Transport>(
  manager: SessionManager,
  source: ConnectionSource<C, I, T>,
  options: ConnectionPortsOptions<C, I, T> = {},
): ConnectionPorts<C> {
  const { portName, onConnection, serializer: _s, heartbeat: _h, maxFrameBytes: _m, ...portOptions } = options;
  const ports = new Map<C, Port>();
  /** Every port this server made and still owns, with the connection it belongs to now. */
  const owned = new Map<Port, Entry<C>>();
  const label = source.label;
  let closed = false;

  const end = (connection: C, why: EndReason, reason: SessionError): void => {
    try {
      source.end(connection, why, reason);
    } catch (error) {
      manager.report(error, undefined);
    }
  };

  const refuse = (connection: C, message: string, cause?: unknown): void => {
    const error = new SessionError(
      `${label}: connection refused: ${message}`,
      cause === undefined ? undefined : { cause },
    );
    manager.report(error, undefined);
    end(connection, "refused", error);
  };

  /** psession let go of this connection's transport (port destroyed, re-bound, or connection closed). */
  const released = (entry: Entry<C>): void => {
    if (!entry.bound) return;
    entry.bound = false;
    const port = entry.port!;
    if (ports.get(entry.connection) === port) ports.delete(entry.connection);
    // attach() and the core's close handling unbind before they re-bind or clear the sender: look
    // once they are done.
    queueMicrotask(() => {
      if (owned.get(port) !== entry) return; // a newer connection of ours holds the port
      // Destroyed, or re-bound to something else: no longer ours. Otherwise parked for a
      // reconnect under the same name, and still ours.
      if (port.destroyed || port.attached) owned.delete(port);
    });
  };

  /**
   * Attaches `transport` and learns when psession lets go of it: the unsubscribe of the message
   * listener attach() subscribes is wrapped, on this transport instance, for that one call only.
   * The transport itself goes to attach(), so the send path has no extra layer.
   */
  const attachTracked = (transport: T, entry: Entry<C>, attachOptions: AttachOptions): Port => {
    const target = transport as { onMessage: Transport["onMessage"] };
    const hadOwn = Object.hasOwn(target, "onMessage");
    const original = target.onMessage;
    let first = true;
    target.onMessage = function (listener) {
      const off = original.call(this, listener);
      if (!first) return off;
      first = false;
      return () => {
        off();
        released(entry);
      };
    };
    try {
      return attach(manager, transport, attachOptions);
    } finally {
      if (hadOwn) target.onMessage = original;
      else delete (target as { onMessage?: unknown }).onMessage;
    }
  };

  /**
   * A newer connection takes `port` over from a live one: everything the port was doing belongs to
   * the older peer, so it ends now. Every session aborts (the older peer is told on its own
   * connection, and nothing of it is ever sent to the newcomer, retries left or not), the replay
   * cache forgets the older peer's answers, and the older transport is let go before the newer
   * one is attached: a late frame from the older peer cannot reach the port either.
   */
  const retire = (port: Port, name: string): void => {
    const reason = new SessionAbortError(`port "${name}": superseded by a newer connection under its name`);
    for (const session of port.sessions.values()) session.abort(reason);
    port._tombs = undefined;
    port._detach?.();
  };

  const uniqueName = (base: string): string => {
    if (!manager.ports.has(base)) return base;
    for (let n = 2; ; n++) if (!manager.ports.has(`${base}#${n}`)) return `${base}#${n}`;
  };

  const acceptOne = (connection: C, info: I): void => {
    if (ports.has(connection)) {
      manager.report(
        new SessionError(`${label}: a connection was announced twice; it keeps its port`),
        ports.get(connection),
      );
      return;
    }
    let name: string;
    if (portName !== undefined) {
      try {
        name = portName(connection, info);
      } catch (error) {
        refuse(connection, `portName failed (${error instanceof Error ? error.message : String(error)})`, error);
        return;
      }
      if (typeof name !== "string" || name === "") {
        refuse(connection, `portName returned ${typeof name === "string" ? "an empty string" : String(name)}`);
        return;
      }
    } else {
      name = uniqueName(source.defaultName(connection, info));
    }
    const existing = manager.ports.get(name);
    if (existing !== undefined && !owned.has(existing)) {
      refuse(
        connection,
        `port "${name}" exists but was not made by this server (the manager's "default", a createPort() port or another attach()); choose another portName`,
      );
      return;
    }
    const previous = existing === undefined ? undefined : owned.get(existing);
    const superseded = previous?.bound ? previous : undefined;

    let transport: T;
    try {
      transport = source.transport(connection, info);
    } catch (error) {
      refuse(connection, error instanceof Error ? error.message : String(error), error);
      return;
    }
    if (superseded !== undefined) retire(existing!, name);
    const entry: Entry<C> = { connection, port: undefined, bound: true };
    let port: Port;
    try {
      // Role: the option when given (an explicit undefined too), else the transport's ("server").
      port = attachTracked(transport, entry, { ...portOptions, port: name });
    } catch (error) {
      entry.bound = false;
      transport.close?.();
      refuse(connection, error instanceof Error ? error.message : String(error), error);
      return;
    }
    entry.port = port;
    ports.set(connection, port);
    owned.set(port, entry);
    if (superseded !== undefined) {
      // The port moved to this connection (its sessions were aborted); the older one is closed,
      // not left open and unwatched.
      ports.delete(superseded.connection);
      end(
        superseded.connection,
        "superseded",
        new SessionChannelError("SUPERSEDED", `superseded by a newer connection under port "${name}"`),
      );
    }
    if (onConnection !== undefined) {
      try {
        onConnection(port, connection, transport);
      } catch (error) {
        manager.report(error, port);
      }
    }
  };

  // Nothing may escape into the server's event emitter.
  const accept = (connection: C, info: I): void => {
    if (closed) return;
    try {
      acceptOne(connection, info);
    } catch (error) {
      refuse(connection, error instanceof Error ? error.message : String(error), error);
    }
  };

  const unlisten = source.listen(accept);
  const registration: Registration = { ports };
  let registrations = registry.get(manager);
  if (registrations === undefined) registry.set(manager, (registrations = new Set()));
  registrations.add(registration);

  return {
    ports,
    portOf: (connection) => ports.get(connection),
    close({ closeConnections = false } = {}) {
      if (closed) return;
      closed = true;
      unlisten();
      registrations!.delete(registration);
      for (const [port, entry] of [...owned]) {
        owned.delete(port);
        const live = entry.bound;
        // Ours while bound to our connection or parked; a port re-bound elsewhere is left alone.
        if (live || !port.attached) {
          port.destroy(new SessionAbortError(`port "${port.name}": detached from the server`));
        }
        if (live && closeConnections) {
          end(
            entry.connection,
            "closed",
            new SessionChannelError("CLOSED", "the server was detached (closeConnections)"),
          );
        }
      }
      ports.clear();
    },
  };
}

/**
 * A hint for "no transport attached" errors: on a manager that gives each connection its own
 * port (an `attach(manager, server)`), names those ports. Undefined otherwise.
 */
export function describeConnectionPorts(manager: SessionManager): string | undefined {
  const registrations = registry.get(manager);
  if (registrations === undefined || registrations.size === 0) return undefined;
  const names: string[] = [];
  for (const registration of registrations) for (const port of registration.ports.values()) names.push(port.name);
  if (names.length === 0) return "this manager gives each connection its own port (no connection now)";
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n));
  if (names.length > 5) shown.push("…");
  return `this manager gives each connection its own port (${names.length} now: ${shown.join(", ")})`;
}

/** Validates a `heartbeat` option; the timeout defaults to the interval. Throws a RangeError. */
export function heartbeatSettings(
  heartbeat: HeartbeatOptions | undefined,
  label: string,
): Required<HeartbeatOptions> | undefined {
  if (heartbeat === undefined) return undefined;
  const { interval } = heartbeat;
  const timeout = heartbeat.timeout ?? interval;
  if (!isDelay(interval)) throw new RangeError(`${label}: heartbeat.interval must be a positive number of ms`);
  if (!isDelay(timeout)) throw new RangeError(`${label}: heartbeat.timeout must be a positive number of ms`);
  return { interval, timeout };
}

/**
 * Validates a `maxFrameBytes` option: a positive integer up to `upTo` (a framing's own limit),
 * default `DEFAULT_MAX_FRAME_BYTES`. Throws a RangeError.
 */
export function maxFrameBytesSetting(value: number | undefined, label: string, upTo = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isInteger(value) || value <= 0 || value > upTo) {
    const limit = upTo < Number.MAX_SAFE_INTEGER ? ` (at most ${upTo})` : "";
    throw new RangeError(`${label}: maxFrameBytes must be a positive integer${limit}`);
  }
  return value;
}

/** setTimeout's range: past it Node fires at once. */
const isDelay = (ms: unknown): ms is number => typeof ms === "number" && ms > 0 && ms <= 0x7fffffff;
