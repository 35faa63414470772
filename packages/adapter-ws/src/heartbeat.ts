import type { HeartbeatOptions } from "psession";

type Timer = ReturnType<typeof setTimeout> & { unref?(): unknown };

/**
 * Liveness, the same meaning in every adapter: traffic from the peer sets `alive`; after
 * `interval` ms without any, the peer is pinged; when nothing at all arrives within `timeout` ms of
 * that ping (a ping goes out every `interval` ms meanwhile), `dead` is called. The timeout counts
 * from the ping, so a timeout equal to or smaller than the interval never kills a healthy idle
 * connection. One timer per connection, re-armed once per interval, never per message.
 */
export class Heartbeat {
  /** Set by the transport on every inbound frame and pong. */
  alive = false;
  /**
   * Epoch ms of the last tick that found the peer alive (0 before any): when it last showed life,
   * at most one interval late. One clock read per interval, none per frame.
   */
  seen = 0;
  private timer: Timer | undefined = undefined;
  /** Ms since the first unanswered ping; -1 while not waiting for one. */
  private waited = -1;
  private armedFor = 0;

  constructor(
    private readonly settings: Required<HeartbeatOptions>,
    /** Sends a ping; false when the channel cannot yet (still connecting): try again later. */
    private readonly ping: () => boolean,
    private readonly dead: () => void,
  ) {
    this.arm(settings.interval);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const { interval, timeout } = this.settings;
    if (this.alive) {
      this.alive = false;
      this.seen = Date.now();
      this.waited = -1;
      this.arm(interval);
      return;
    }
    if (this.waited < 0) {
      if (this.ping()) this.waited = 0;
      this.arm(this.waited < 0 ? interval : Math.min(interval, timeout));
      return;
    }
    this.waited += this.armedFor;
    if (this.waited >= timeout) {
      this.dead();
      return;
    }
    this.ping();
    this.arm(Math.min(interval, timeout - this.waited));
  };

  private arm(ms: number): void {
    this.armedFor = ms;
    const timer = setTimeout(this.tick, ms) as Timer;
    timer.unref?.();
    this.timer = timer;
  }
}
