import { SessionChannelError, SessionInvalidError } from "./errors.js";
import type { SessionManager } from "./manager.js";
import type { Port } from "./port.js";
import type { Transport } from "./transport.js";
import type { Message, PortOptions, TransferExtras } from "./types.js";

export interface AttachOptions extends Omit<PortOptions, "sender"> {
  /** Port to bind (default "default"). An existing port is re-bound: its sessions carry over. */
  port?: string;
  /**
   * When the transport closes, keep the port and its sessions for a later `attach()` under the
   * same name: sends with retries left re-send on the new transport, the others fail at once with
   * SessionAbortError. Default false: the port is destroyed and every pending send fails at once.
   */
  reconnect?: boolean;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const DEFAULT_BACKPRESSURE_TIMEOUT = 30_000;

/** Which port each channel (`transport.channel`) is attached to: one channel, one port. */
const attachedChannels = new WeakMap<object, Port>();

type Timer = ReturnType<typeof setTimeout> & { unref?(): unknown };

/**
 * Binds a port to a transport: outgoing messages go to `transport.send`, every inbound message is
 * routed (`isSession` → `getSession` → `next`, else the "message" event), and the transport
 * closing destroys the port (or detaches it, with `reconnect`). Every adapter is built on this.
 *
 * The port's role is `options.role` when the option is given (even as `undefined`: role-less),
 * else the transport's own `role`. Re-attaching a port while its previous transport is still open
 * keeps listening to the previous one until it closes, so replies already on their way arrive.
 */
export function attach<M = unknown>(
  manager: SessionManager,
  transport: Transport<M>,
  options: AttachOptions = {},
): Port {
  const name = options.port ?? "default";
  const channel = transport.channel;
  if (channel !== undefined) {
    const holder = attachedChannels.get(channel);
    if (holder !== undefined) {
      const where = holder.manager === manager ? "this manager" : "another manager";
      throw new SessionInvalidError(`this channel is already attached to ${holder} of ${where}; detach it first`);
    }
  }
  const role = "role" in options ? options.role : transport.role;
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const stuckAfter = options.backpressureTimeout ?? DEFAULT_BACKPRESSURE_TIMEOUT;
  const measured = "bufferedAmount" in transport;
  let blocked = false;
  let offDrain: (() => void) | undefined;
  let stuck: Timer | undefined;

  const sender = (message: Message, extras?: TransferExtras): void | Promise<void> => {
    const result = extras === undefined ? transport.send(message as M) : transport.send(message as M, extras);
    if (measured && !blocked && (transport.bufferedAmount as number) > highWaterMark) block();
    return result;
  };

  let port = manager.ports.get(name);
  if (port === undefined) {
    port = manager.createPort(name, { ...options, role, sender });
  } else {
    port._handOver();
    port._configure({ ...options, role, sender });
  }
  const bound = port;
  bound._reconnect = options.reconnect === true;
  bound._duplicates = transport.duplicates === true;
  bound._timeouts = transport.timeouts === true;
  bound._transport = transport as Transport;
  bound._stats.meterWith(transport);
  if (measured) bound._queued = () => transport.bufferedAmount as number;

  // Back-pressure: the peer does not read what we send. Stop reading from it (it cannot make us
  // queue answers either), fail local sends at once, and disconnect it if it stays that way.
  function block(): void {
    blocked = bound._blocked = true;
    transport.pause?.();
    offDrain = transport.onDrain?.(unblock);
    const timer = setTimeout(disconnectStuck, stuckAfter) as Timer;
    timer.unref?.();
    stuck = timer;
  }
  function unblock(): void {
    if (!blocked) return;
    blocked = false;
    if (bound._sender === sender) bound._blocked = false;
    clearTimeout(stuck);
    offDrain?.();
    offDrain = undefined;
    transport.resume?.();
  }
  function disconnectStuck(): void {
    const error = new SessionChannelError(
      "BACKPRESSURE",
      `${bound}: the peer read nothing for ${stuckAfter} ms with ${transport.bufferedAmount} queued; disconnected`,
    );
    manager.report(error, bound);
    closed(error);
    try {
      transport.close?.();
    } catch (e) {
      manager.report(e, bound);
    }
  }

  let done = false;
  let offMessage: (() => void) | undefined;
  let offClose: (() => void) | undefined;
  const closed = (reason?: unknown): void => {
    if (done) return;
    bound._transportClosed(reason, sender);
    cleanup();
  };
  const cleanup = (): void => {
    if (done) return;
    done = true;
    offMessage?.();
    offClose?.();
    offDrain?.();
    clearTimeout(stuck);
    if (channel !== undefined && attachedChannels.get(channel) === bound) attachedChannels.delete(channel);
    bound._released(cleanup);
    bound._stats.retireMeter(transport); // keep what this transport counted
    if (bound._transport === transport) bound._transport = undefined;
    if (bound._sender === sender) {
      bound._sender = undefined;
      bound._blocked = false;
    }
  };
  bound._detach = cleanup;
  if (channel !== undefined) attachedChannels.set(channel, bound);
  offMessage = transport.onMessage((message) => manager.receive(message, bound));
  offClose = transport.onClose?.(closed);
  if (done) offMessage(); // closed while subscribing
  return bound;
}
