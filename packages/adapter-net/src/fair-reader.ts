import type { Socket } from "node:net";
import { ReadBudget } from "psession";
import type { FrameDecoder, Slice } from "./frame-decoder.js";

/**
 * Reads a socket through a decoder, one bounded slice per turn of the event loop (the core's
 * `ReadBudget`): a connection flooding the server cannot starve the others. When a chunk holds
 * more than the slice, the rest is kept (a view of the chunk: nothing copied), the socket is
 * paused (TCP pushes back on the peer), and decoding goes on in a `setImmediate`, after the other
 * connections' I/O. `pause()`/`resume()` are the core's back-pressure: nothing more is decoded
 * until `resume()`.
 */
export interface ReaderHooks {
  /** Slices for a server's connections; a client reads its one server at full speed. */
  fair: boolean;
  /** Something threw while decoding in a continuation: the transport reports it and closes. */
  crashed(error: unknown): void;
  /** The kept input is all decoded, or the core paused reading: answers held back may leave. */
  idle(): void;
}

export class FairReader implements Slice {
  private readonly budget: ReadBudget | undefined;
  private rest: Buffer | undefined = undefined;
  private paused = false;
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly socket: Socket,
    private readonly decoder: FrameDecoder,
    private readonly hooks: ReaderHooks,
  ) {
    this.budget = hooks.fair ? new ReadBudget() : undefined;
    decoder.slice = this;
  }

  /** Input is kept and being decoded in later turns (not paused by the core). */
  get decoding(): boolean {
    return this.rest !== undefined && !this.paused && !this.stopped;
  }

  /** The decoder's slice: spent when the core paused reading, or when the turn's budget is. */
  spend(cost: number): boolean {
    return !this.paused && (this.budget === undefined || this.budget.spend(cost));
  }

  /** A chunk from the socket's "data" event. */
  data(chunk: Buffer): void {
    if (this.rest !== undefined) {
      // Only if the socket delivered while paused: keep the order.
      this.rest = Buffer.concat([this.rest, chunk]);
      return;
    }
    this.consume(chunk, !this.paused && (this.budget === undefined || this.budget.begin()));
  }

  /** The core's back-pressure: the frame being delivered is the last until `resume()`. */
  pause(): void {
    if (this.stopped) return;
    this.paused = true;
    this.socket.pause();
    this.hooks.idle();
  }

  resume(): void {
    if (this.stopped || !this.paused) return;
    this.paused = false;
    if (this.rest !== undefined) this.schedule();
    else this.socket.resume();
  }

  /** The connection is going away: drop what is kept. */
  stop(): void {
    this.stopped = true;
    this.rest = undefined;
  }

  private consume(chunk: Buffer, go: boolean): void {
    const used = go ? this.decoder.push(chunk) : 0;
    if (used >= chunk.length || this.stopped) return;
    this.rest = used === 0 ? chunk : chunk.subarray(used);
    this.socket.pause();
    if (!this.paused) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.continue);
  }

  private readonly continue = (): void => {
    this.scheduled = false;
    const rest = this.rest;
    if (this.stopped || this.paused || rest === undefined) return;
    this.rest = undefined;
    try {
      this.consume(rest, this.budget === undefined || this.budget.begin(true));
      // All kept input is decoded: read from the peer again (a FIN waiting behind it comes now).
      if (this.rest === undefined && !this.paused && !this.stopped) {
        this.socket.resume();
        this.hooks.idle();
      }
    } catch (error) {
      this.hooks.crashed(error);
    }
  };
}
