import type { Port } from "./port.js";
import type { Message } from "./types.js";

/**
 * What a port remembers of a responder session after it ended: the last turn it answered, and
 * the answer itself when that turn was retryable (`$try`). A repeated turn is then recognised
 * (a QoS 1 duplicate, a retry after a lost reply) and answered from here instead of running the
 * handler again.
 * @internal
 */
export interface Tomb {
  port: Port | undefined;
  sid: number;
  turn: number;
  out: Message | undefined;
}

/**
 * One per manager, bounded in entries and in bytes of kept answers, whatever the number of ports.
 * Entries are reused in a ring, so a steady stream of sessions allocates nothing here.
 * @internal
 */
export class ReplayCache {
  private readonly ring: Tomb[] = [];
  private next = 0;
  private bytes = 0;
  // Answers kept, oldest first, for the byte budget.
  private outs: { tomb: Tomb; out: Message; bytes: number }[] = [];
  private outsHead = 0;

  constructor(
    private readonly capacity: number,
    private readonly maxBytes: number,
  ) {}

  remember(port: Port, sid: number, turn: number, out: Message | undefined): void {
    if (this.capacity <= 0) return;
    let tomb = this.ring[this.next];
    if (tomb === undefined) tomb = this.ring[this.next] = { port: undefined, sid: 0, turn: 0, out: undefined };
    else forget(tomb);
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    tomb.port = port;
    tomb.sid = sid;
    tomb.turn = turn;
    tomb.out = undefined;
    (port._tombs ??= new Map()).set(sid, tomb);
    if (out !== undefined) this.keep(tomb, out);
  }

  private keep(tomb: Tomb, out: Message): void {
    let bytes: number;
    try {
      // Only for retryable turns, once per ended session: a fair price for an honest byte count.
      bytes = JSON.stringify(out)?.length ?? 0;
    } catch {
      return;
    }
    if (bytes > this.maxBytes) return;
    tomb.out = out;
    this.bytes += bytes;
    this.outs.push({ tomb, out, bytes });
    while (this.bytes > this.maxBytes) {
      const oldest = this.outs[this.outsHead++]!;
      this.bytes -= oldest.bytes;
      if (oldest.tomb.out === oldest.out) oldest.tomb.out = undefined;
    }
    if (this.outsHead > 1024 && this.outsHead * 2 > this.outs.length) {
      this.outs = this.outs.slice(this.outsHead);
      this.outsHead = 0;
    }
  }
}

function forget(tomb: Tomb): void {
  const tombs = tomb.port?._tombs;
  if (tombs !== undefined && tombs.get(tomb.sid) === tomb) tombs.delete(tomb.sid);
  tomb.port = undefined;
  tomb.out = undefined;
}
