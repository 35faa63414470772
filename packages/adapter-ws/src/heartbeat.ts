import { OPEN, type HeartbeatOptions } from "./types.js";

type Timer = ReturnType<typeof setTimeout> & { unref?(): unknown };

/** The part of a `ws` WebSocket a heartbeat uses. */
export interface Pingable {
  readonly readyState: number;
  ping(): void;
}

/**
 * Pings every `interval` ms (counted from the last pong) and calls `onDead` when a pong does not
 * come back within `timeout` ms. One timer per connection, re-armed only once per interval.
 */
export class Heartbeat {
  private timer: Timer | undefined = undefined;
  private waiting = false;
  private readonly interval: number;
  private readonly timeout: number;

  constructor(
    private readonly socket: Pingable,
    options: HeartbeatOptions,
    private readonly onDead: (timeout: number) => void,
  ) {
    if (!(options.interval > 0)) throw new RangeError("heartbeat.interval must be a positive number of ms");
    this.interval = options.interval;
    this.timeout = options.timeout ?? options.interval;
    if (!(this.timeout > 0)) throw new RangeError("heartbeat.timeout must be a positive number of ms");
    this.arm(this.ping, this.interval);
  }

  /** A pong arrived. */
  readonly pong = (): void => {
    if (!this.waiting) return;
    this.waiting = false;
    this.arm(this.ping, this.interval);
  };

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly ping = (): void => {
    if (this.socket.readyState !== OPEN) {
      // Still connecting: look again later. Closing: the close listener stops us.
      this.arm(this.ping, this.interval);
      return;
    }
    this.waiting = true;
    this.arm(this.expire, this.timeout);
    try {
      this.socket.ping();
    } catch {
      // The socket is going away; its close event ends the heartbeat.
    }
  };

  private readonly expire = (): void => {
    this.timer = undefined;
    if (this.waiting) this.onDead(this.timeout);
  };

  private arm(fn: () => void, ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    const timer = setTimeout(fn, ms) as Timer;
    timer.unref?.();
    this.timer = timer;
  }
}
