/** Application-level liveness check; off unless `heartbeat` is given. */
export interface HeartbeatOptions {
  /** Milliseconds between checks. A ping is sent at a check when nothing arrived since the last one. */
  interval: number;
  /** Milliseconds without a single byte from the peer after which the connection is destroyed. */
  timeout: number;
}

/** Field of the control frames: `{"$hb":"ping"}` is answered with `{"$hb":"pong"}`. */
export const HEARTBEAT_KEY = "$hb";
export const PING = { [HEARTBEAT_KEY]: "ping" } as const;
export const PONG = { [HEARTBEAT_KEY]: "pong" } as const;

type PlatformTimer = ReturnType<typeof setInterval>;

/**
 * One unref'd interval per connection. Any inbound byte counts as life (the transport sets
 * `alive`), so a busy connection sends no pings; an idle one sends a ping per interval, and one
 * silent for `timeout` ms (a half-open peer: unplugged, crashed, NAT state dropped) is declared dead.
 */
export class Heartbeat {
  alive = false;
  private silentFor = 0;
  private readonly timer: PlatformTimer;

  constructor(
    private readonly options: HeartbeatOptions,
    private readonly ping: () => void,
    private readonly dead: (silentFor: number) => void,
  ) {
    if (!(options.interval > 0) || !(options.timeout > 0)) {
      throw new RangeError("heartbeat: interval and timeout must be positive numbers of milliseconds");
    }
    this.timer = setInterval(this.tick, options.interval);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private readonly tick = (): void => {
    if (this.alive) {
      this.alive = false;
      this.silentFor = 0;
      return;
    }
    this.silentFor += this.options.interval;
    if (this.silentFor >= this.options.timeout) this.dead(this.silentFor);
    else this.ping();
  };
}
