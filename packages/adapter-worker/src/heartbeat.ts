// Liveness for channels that may die without a word (a browser MessagePort, a frozen worker): the
// same meaning as every adapter's `heartbeat` option. Any inbound message counts as a sign of life.
import type { HeartbeatOptions } from "psession";

type Timer = ReturnType<typeof setTimeout> & { unref?(): unknown };

export class Heartbeat {
  /** Set by the transport on every inbound message. */
  alive = false;
  private timer: Timer | undefined;
  /** Ms waited since the first unanswered ping; -1 while none is out. */
  private waited = -1;
  private armedFor = 0;

  constructor(
    private readonly settings: Required<HeartbeatOptions>,
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {
    this.arm(settings.interval);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    const { interval, timeout } = this.settings;
    if (this.alive) {
      this.alive = false;
      this.waited = -1;
      this.arm(interval);
      return;
    }
    if (this.waited < 0) {
      this.waited = 0;
    } else {
      this.waited += this.armedFor;
      if (this.waited >= timeout) {
        this.timer = undefined;
        this.dead();
        return;
      }
    }
    // A ping every interval while waiting, the last wait cut to the timeout.
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
