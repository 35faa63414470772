import { watchSignal } from "./abort-signals.js";
import { now } from "./clock.js";
import { Emitter } from "./emitter.js";
import {
  SessionAbortError,
  SessionCancelError,
  SessionChannelError,
  type SessionError,
  SessionInvalidError,
  SessionTimeoutError,
  fromRemoteErrorInfo,
  toSendError,
} from "./errors.js";
import type { SessionManager } from "./manager.js";
import type { SessionState } from "./listing.js";
import type { Port } from "./port.js";
import { runHandler, unhandled } from "./responder.js";
import type { EXPIRED } from "./stats.js";
import type { TimerNode } from "./timer-queue.js";
import type { Message, SendOptions, SessionEvents, SessionOptions, TransferExtras } from "./types.js";
// Wire fields ($turn, $re, $try, $progress, $cancel; docs/protocol.md) are plain property accesses:
// literal names keep V8 on its fast named-property path.

// What the timer node is waiting for.
const IDLE = 0;
const REPLY = 1;
const RETRY = 2;

// biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
type Resolve = (reply: any) => void;
type Reject = (error: Error) => void;

const hasOwn = Object.prototype.hasOwnProperty;
const inspect: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/**
 * One conversation with the remote, identified by `id` on its port. Local sessions are made by
 * `createSession()`; responder sessions by a remote message whose sid this side did not allocate.
 * A session holds at most one pending `send` at a time; it is also its own timer node, so a
 * pending send allocates nothing besides its promise and the tagged copy of the message.
 *
 * Turns (docs/protocol.md): the opener numbers each message `$turn`; the responder marks each of
 * its messages with the `$turn` it answers (`$re`). That one pair of numbers gives turn matching,
 * de-duplication and "never answer an answer".
 */
// biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
export class Session<Reply = any> extends Emitter<SessionEvents> {
  readonly id: number;
  /** True for a session the remote opened (this side answers it). */
  readonly remote: boolean;
  /** @internal */ _port: Port;
  /** @internal */ _ended = false;
  /**
   * @internal The manager's coarse clock (`_tick`, ms) at the last message from the remote: no
   * clock read per message (see manager._sweep), so it is as precise as that clock's tick.
   */
  _active: number;
  /** @internal The manager's coarse clock when the session was made. */
  _born: number;
  /** @internal Turns so far: messages the opener sent in this session (for listings). */
  _turns = 0;
  /**
   * @internal Opener: the `$turn` of its latest message. Responder: the latest `$turn` received,
   * which its messages carry as `$re`.
   */
  _turn = 0;
  /** @internal The last message this side sent, kept to answer a retried turn again. */
  _lastOut: Message | undefined = undefined;
  /** @internal Responder: the current turn asked for a replay (`$try`), so its answer is kept after the end. */
  _retryable = false;
  /**
   * @internal Responder: it sent a retryable message. The opener answers a re-sent attempt by
   * repeating its latest turn, so that turn may arrive again after the end: remember it.
   */
  _retriedOut = false;
  /** Opener: the `$re` of the last retryable responder message delivered, to drop its re-sends. */
  private _retriedRe: unknown = undefined;
  private readonly _once: boolean;
  private _handled = false;
  private readonly _options: SessionOptions | undefined;

  // The pending send, if any.
  private _resolve: Resolve | undefined = undefined;
  private _reject: Reject | undefined = undefined;
  private _out: Message | undefined = undefined;
  private _phase = IDLE;
  private _retriesLeft = 0;
  private _sendTimeout = 0;
  private _sendInterval = 0;
  private _attempt = 0;
  private _startedAt = 0;
  /** The sender the current attempt went through, so a transport closing fails only its own attempts. */
  private _via: unknown = undefined;
  private _x: SessionExtras | undefined = undefined;

  /** @internal The port's local sessions in creation order (oldest first), for overflow recycling. */
  _older: Session | undefined = undefined;
  /** @internal */ _newer: Session | undefined = undefined;

  // TimerNode
  /** @internal */ _deadline = 0;
  /** @internal */ _tprev: TimerNode | null = null;
  /** @internal */ _tnext: TimerNode | null = null;
  /** @internal */ _bucket: TimerNode["_bucket"] = null;

  /** @internal */
  constructor(port: Port, id: number, remote: boolean, options: SessionOptions | undefined) {
    super();
    this._port = port;
    this.id = id;
    this.remote = remote;
    this._born = this._active = port.manager._tick;
    this._once = options !== undefined && options.once === true;
    this._options = options;
  }

  get manager(): SessionManager {
    return this._port.manager;
  }

  /** Name of the port this session belongs to. */
  get port(): string {
    return this._port.name;
  }

  /** True while a `send` waits for its reply. */
  get pending(): boolean {
    return this._resolve !== undefined;
  }

  get ended(): boolean {
    return this._ended;
  }

  /**
   * Aborted when the session ends before its work is done: the remote cancelled it, it was
   * aborted, timed out or its port closed. A `handle()` handler passes it to whatever it awaits.
   */
  get signal(): AbortSignal {
    const x = this._extras();
    if (x.controller === undefined) {
      x.controller = new AbortController();
      if (this._ended) x.controller.abort(x.endReason ?? new SessionCancelError(`${this} has ended`));
    }
    return x.controller.signal;
  }

  /**
   * Sends `message` (a copy carrying this session's id) and resolves with the remote's reply.
   * Rejects with SessionTimeoutError after the timeout (and all retries), SessionRemoteError when
   * the remote handler failed, SessionCancelError / SessionAbortError when cancelled or aborted,
   * SessionSendError / SessionChannelError when the transport cannot send.
   */
  send(message: Message, options?: SendOptions): Promise<Reply> {
    if (this._ended) return Promise.reject(this._endedError());
    if (this._resolve !== undefined)
      return Promise.reject(new SessionInvalidError(`${this} already has a send pending`));
    let out: Message;
    try {
      out = this._tag(message);
    } catch (error) {
      return this._refused(error as Error);
    }
    const port = this._port;
    const own = this._options;
    let timeout = own?.timeout ?? port.sessionTimeout;
    let retries = own?.retryCount ?? port.retryCount;
    let interval = own?.retryInterval ?? port.retryInterval;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      if (options.timeout !== undefined) timeout = options.timeout;
      if (options.retryCount !== undefined) retries = options.retryCount;
      if (options.retryInterval !== undefined) interval = options.retryInterval;
      signal = options.signal;
      if (signal?.aborted) return this._refused(abortedBySignal(signal));
      if (options.onProgress !== undefined) this._extras().onProgress = options.onProgress;
      if (options.transfer !== undefined) retries = 0; // the first attempt detaches the buffers: nothing is left to re-send
    }
    if (!this.remote && port._blocked) {
      return this._refused(this._backpressureError());
    }
    const promise = new Promise<Reply>((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    port._stats.requests++;
    this._sendTimeout = timeout > 0 ? timeout : Infinity;
    this._retriesLeft = retries > 0 ? Math.floor(retries) : 0;
    // biome-ignore lint/complexity/useMathMinMax: NaN must become 0, which Math.max would keep
    this._sendInterval = interval > 0 ? interval : 0;
    this._attempt = 0;
    if (this._retriesLeft > 0 && port.manager._wire) {
      out.$try = 1;
      if (this.remote) this._retriedOut = true;
    }
    this._out = out;
    if (options?.transfer !== undefined) this._extras().transfer = { transfer: options.transfer };
    if (this._sendTimeout === Infinity) port.manager._holdOpen(1);
    if (signal !== undefined) this._extras().unwatch = watchSignal(signal, this);
    this._sendAttempt();
    return promise;
  }

  /** A send refused before it started: a `once` session (a `request()`) ends with it, not at its max life. */
  private _refused(error: Error): Promise<never> {
    if (this._once) this._end(error, false);
    return Promise.reject(error);
  }

  /** Sends `message` with this session's id without waiting for a reply (`transfer`: see SendOptions). */
  post(message: Message, options?: { transfer?: readonly unknown[] }): void {
    if (this._ended) throw this._endedError();
    if (!this.remote && this._port._blocked) throw this._backpressureError();
    const out = this._remember(this._tag(message));
    if (options?.transfer === undefined) this._port._post(out);
    else this._port._post(out, false, { transfer: options.transfer });
  }

  /**
   * Sends an interim message toward the remote's pending send, before the answer: it reaches the
   * remote's `onProgress` and restarts that send's timeout. For long work in a handler.
   */
  progress(message: Message): void {
    if (this._ended) throw this._endedError();
    const out = this._tag(message);
    out.$progress = true;
    this._port._post(out);
  }

  /**
   * Delivers a message from the remote to this session: it resolves the pending send, or,
   * when nothing is pending, starts a new turn (`handle()` handler or `next` listeners).
   * This is the one place an inbound session message is interpreted.
   */
  next(message: Message): void {
    const manager = this._port.manager;
    if (this._ended) {
      manager.report(new SessionInvalidError(`${this} has ended; message dropped`), this._port);
      return;
    }
    if (typeof message !== "object" || message === null) {
      manager.report(new SessionInvalidError(`${this}: next() needs a message object`), this._port);
      return;
    }
    this._active = manager._tick;
    if (manager._wire) {
      const cancel = message.$cancel;
      if (cancel !== undefined) {
        // A cancel names its turn; turns only grow per connection, so one naming a turn this
        // session cannot be at belongs to an older session that had this sid (ids are recycled),
        // or to a turn the opener has moved on from (the responder then refuses that later turn):
        // dropped quietly, like a cancel for an unknown sid.
        const turn = this.remote ? message.$turn : message.$re;
        if (typeof turn === "number" && (this.remote ? turn < this._turn : turn !== this._turn)) return;
        this._cancelledByRemote(cancel);
        return;
      }
      if (this.remote) {
        // From the opener: a turn at or below the latest one is a repeat.
        const turn = message.$turn;
        if (typeof turn === "number") {
          if (turn <= this._turn) {
            this._repeated(turn, message.$try !== undefined);
            return;
          }
          this._turn = turn;
          this._retryable = message.$try !== undefined;
        }
      } else {
        // From the responder: it must answer our latest turn. Peers that only echo the sid send no
        // `$re`; one that echoes the whole request sends ours back, `$turn` and all: not an answer mark.
        const re = message.$turn === undefined ? message.$re : undefined;
        if (re !== undefined && re !== this._turn) {
          if (message.$try !== undefined && this._lastOut !== undefined) {
            // The responder retried a message we already answered: our answer was lost.
            this._port._resend(this._lastOut);
          } else {
            manager._stale(this, re);
          }
          return;
        }
        const attempt = message.$try;
        if (attempt !== undefined && re !== undefined) {
          // A re-sent attempt of a responder message this turn already delivered: a repeat.
          if (attempt > 1 && this._retriedRe === re && this._resolve === undefined) return;
          this._retriedRe = re;
        }
      }
      if (message.$progress !== undefined) {
        this._progressed(message);
        return;
      }
    }
    if (this.remote) this._turns++; // a new turn from the opener (repeats, cancels and progress returned above)
    const resolve = this._resolve;
    if (resolve !== undefined) {
      const failure = message[manager._errorKey];
      const startedAt = this._startedAt;
      const stats = this._port._stats;
      if (failure !== undefined) {
        this._fail(fromRemoteErrorInfo(failure), false);
        if (--stats.budget >= 0) stats.roundTrip(startedAt, manager._queue.time());
        return;
      }
      this._clearPending();
      // Timed within the port's budget (stats.ts), on the timer queue's clock.
      if (--stats.budget >= 0) stats.roundTrip(startedAt, manager._queue.time());
      resolve(message);
      if (this._once) this._end(undefined, false);
      return;
    }
    if (this.remote && !this._handled) {
      this._handled = true;
      if (manager._handler !== undefined) {
        runHandler(manager, this, message);
        return;
      }
      if (!this._emit("next", message, this)) unhandled(manager, this);
      return;
    }
    if (!this._emit("next", message, this)) {
      manager.report(
        new SessionInvalidError(`${this} got a message with no send pending and no "next" listener`),
        this._port,
      );
    }
  }

  /** Ends the session; a pending send rejects with SessionCancelError (and the remote is told). */
  end(): void {
    this._end(undefined, this._resolve !== undefined);
  }

  /** Rejects the pending send with SessionCancelError (never retried) and tells the remote; a `once` session ends. */
  cancel(): void {
    const error = new SessionCancelError(`${this} was cancelled`);
    if (this._resolve !== undefined) this._fail(error, true);
    else if (this._once) this._end(error, false);
  }

  /** Ends the session, rejecting its pending send with SessionAbortError (never retried), and tells the remote. */
  abort(error?: unknown): void {
    if (this._ended) return;
    const reason =
      error instanceof SessionAbortError ? error : new SessionAbortError(`${this} was aborted`, { cause: error });
    this._end(reason, true);
  }

  /** Rejects the pending send with SessionTimeoutError now, skipping any retries left. */
  timeout(): void {
    if (this._resolve !== undefined) this._fail(this._timeoutError(), true);
  }

  override toString(): string {
    return `session ${this.id} on port "${this._port.name}"`;
  }

  /** @internal For listings: what the session is doing now. */
  _doing(): SessionState {
    if (this._resolve !== undefined) return this._phase === RETRY ? "retrying" : "waiting";
    return this.remote && this._handled ? "handling" : "idle";
  }

  /** @internal For listings: the later of the last message from the remote and the last send's start (ms, monotonic). */
  _lastActive(): number {
    return Math.max(this._startedAt, this._active);
  }

  /** A short line for logs: `console.log(session)` and `JSON.stringify(session)`. */
  toJSON(): { id: number; port: string; remote: boolean; pending: boolean; ended: boolean; turn: number } {
    return {
      id: this.id,
      port: this._port.name,
      remote: this.remote,
      pending: this.pending,
      ended: this._ended,
      turn: this._turn,
    };
  }

  /** @internal `console.log(session)` in Node prints one line. */
  [inspect](): string {
    return `Session ${JSON.stringify(this.toJSON())}`;
  }

  // ---- internals ---------------------------------------------------------------------------

  /** @internal A "next"/"end" listener threw or rejected: report it on the manager. */
  override _onListenerError(error: unknown): void {
    this._port.manager.report(error, this._port);
  }

  /** @internal The copy that goes on the wire: this session's id and turn fields, nothing inherited. */
  _tag(message: Message): Message {
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      throw new TypeError("psession: a session message must be a plain object");
    }
    const out = this.remote ? copyAnswer(message) : copyRequest(message);
    const manager = this._port.manager;
    out[manager.sessionIdName] = this.id;
    if (!this.remote) this._turns++;
    if (!manager._wire) return out;
    // A message built from an inbound one ({ ...request, status }) must not carry its fields back.
    // Only such a message carries the other side's direction field: one look decides.
    if (this.remote) {
      if (out.$turn !== undefined) clearEchoed(out, "$turn");
      out.$re = this._turn;
    } else {
      if (out.$re !== undefined) clearEchoed(out, "$re");
      // A later turn says which turn it follows: for a session that ended over there it must not
      // open a new one (the password taken for a command), and is answered with `$cancel`.
      const previous = this._turn;
      out.$turn = this._turn = ++this._port._turns;
      if (previous > 0) out.$re = previous;
    }
    return out;
  }

  /** @internal Keeps the last message sent, to answer a retried turn again. */
  _remember(out: Message): Message {
    this._lastOut = out;
    return out;
  }

  /**
   * Sends attempts until one leaves (or the send fails). A sender that fails synchronously with
   * retries left loops here, never recursing; every 1024 failures in a row (and always with a
   * retryInterval) the next attempt waits for the timer, so even `retryCount: Infinity` yields.
   */
  private _sendAttempt(): void {
    for (let burst = 1; ; burst++) {
      const error = this._attemptOnce();
      if (error === undefined || this._resolve === undefined) return;
      this._port.manager._queue.remove(this);
      if (this._retriesLeft <= 0 || isFinal(error)) {
        this._fail(error, false);
        return;
      }
      this._retriesLeft--;
      if (this._sendInterval > 0 || burst >= 1024) {
        this._phase = RETRY;
        this._port.manager._queue.add(this, this._sendInterval);
        return;
      }
    }
  }

  /** One attempt; returns the error when it could not even leave. */
  private _attemptOnce(): SessionError | undefined {
    const port = this._port;
    this._phase = REPLY;
    if (this._sendTimeout !== Infinity) {
      port.manager._queue.add(this, this._sendTimeout);
      // The start of the round trip: the queue's clock, already read for the deadline.
      if (this._attempt === 0) this._startedAt = this._deadline - this._sendTimeout;
    } else if (this._attempt === 0) {
      this._startedAt = port.manager._queue.time();
    }
    const out = this._out!;
    const attempt = ++this._attempt;
    if (attempt > 1) {
      port._stats.retries++;
      if (out.$try !== undefined) out.$try = attempt;
    }
    this._remember(out);
    const sender = port._sender;
    if (sender === undefined) return port._noTransportError();
    this._via = sender;
    try {
      let extras = this._x?.transfer;
      if (extras === undefined && port._timeouts && this._sendTimeout !== Infinity)
        extras = { timeout: this._sendTimeout };
      const result = extras === undefined ? sender(out) : sender(out, extras);
      port._stats.sent++;
      if (result !== undefined && typeof result.then === "function") {
        result.then(undefined, (error: unknown) => {
          if (this._attempt === attempt && this._phase === REPLY) this._attemptFailed(toSendError(error, port.name));
        });
      }
    } catch (error) {
      return toSendError(error, port.name);
    }
    return undefined;
  }

  /** An attempt failed after it left (its promise rejected, its connection went away): retry later, or fail. */
  private _attemptFailed(error: SessionError): void {
    if (this._resolve === undefined) return;
    this._port.manager._queue.remove(this);
    if (this._retriesLeft > 0) {
      this._retriesLeft--;
      // Through the timer, never on this stack.
      this._phase = RETRY;
      this._port.manager._queue.add(this, this._sendInterval);
    } else {
      this._fail(error, false);
    }
  }

  /** @internal The transport this attempt went through closed: the attempt failed. */
  _connectionLost(error: SessionError, via: unknown): void {
    if (this._phase === REPLY && (via === undefined || this._via === via)) this._attemptFailed(error);
  }

  /** @internal Called by the timer queue when this session's deadline passes. */
  _onTimer(): void {
    if (this._phase === RETRY) {
      this._sendAttempt();
    } else if (this._phase === REPLY) {
      if (this._retriesLeft > 0) {
        this._retriesLeft--;
        if (this._sendInterval > 0) {
          this._phase = RETRY;
          this._port.manager._queue.add(this, this._sendInterval);
        } else {
          this._sendAttempt();
        }
      } else {
        this._fail(this._timeoutError(), true);
      }
    }
  }

  /**
   * Rejects the pending send with `error`; a `once` session then ends. `notify`: the remote may
   * still be working on our turn (cancel, abort, final timeout): tell it to stop.
   */
  private _fail(error: Error, notify: boolean): void {
    const reject = this._reject;
    if (reject === undefined) return;
    if (error instanceof SessionTimeoutError) this._port._stats.timeouts++;
    if (notify) this._notifyCancel(error);
    this._clearPending();
    reject(error);
    if (this._once) this._end(error, false);
  }

  private _clearPending(): void {
    const queue = this._port.manager._queue;
    if (this._bucket !== null) queue.remove(this);
    if (this._sendTimeout === Infinity && this._resolve !== undefined) this._port.manager._holdOpen(-1);
    this._resolve = this._reject = undefined;
    this._out = undefined;
    this._phase = IDLE;
    const x = this._x;
    if (x !== undefined) {
      x.onProgress = undefined;
      x.transfer = undefined;
      if (x.unwatch !== undefined) {
        x.unwatch();
        x.unwatch = undefined;
      }
    }
  }

  /** @internal The AbortSignal of the pending send fired. */
  _abortedBySignal(signal: AbortSignal): void {
    this._fail(abortedBySignal(signal), true);
  }

  private _progressed(message: Message): void {
    if (this._resolve === undefined) return; // late progress for a send that has settled: nothing waits for it
    if (this._phase === REPLY && this._sendTimeout !== Infinity) {
      const queue = this._port.manager._queue;
      queue.remove(this);
      queue.add(this, this._sendTimeout);
    }
    const onProgress = this._x?.onProgress;
    if (onProgress === undefined) return;
    try {
      const result = onProgress(message);
      if (result !== undefined && typeof (result as PromiseLike<unknown>).then === "function") {
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) => this._onListenerError(error));
      }
    } catch (error) {
      this._onListenerError(error);
    }
  }

  /** A responder got a turn it has already seen: answer it again if it was retried and answered, else drop it. */
  private _repeated(turn: number, retried: boolean): void {
    this._port._stats.duplicates++;
    const last = this._lastOut;
    if (retried && turn === this._turn && last !== undefined && last.$re === turn) this._port._resend(last);
  }

  private _cancelledByRemote(reason: unknown): void {
    const why = typeof reason === "string" && reason !== "" ? `: ${reason.slice(0, 200)}` : "";
    this._end(new SessionCancelError(`${this} was cancelled by the remote${why}`), false);
  }

  /** Tells the remote to stop working on this session (docs/protocol.md: `$cancel`). Never throws. */
  private _notifyCancel(reason: Error): void {
    const port = this._port;
    if (!port.manager._wire || port._sender === undefined || (!this.remote && this._turn === 0)) return;
    const notice: Message = { [port.manager.sessionIdName]: this.id, $cancel: reason.name };
    if (this.remote) notice.$re = this._turn;
    else notice.$turn = this._turn;
    port._resend(notice);
  }

  /**
   * @internal Ends the session once. `notify`: tell the remote to stop working on it (an abort, a
   * cancel or an end while our turn is pending), not when the remote itself ended it.
   */
  _end(reason: unknown, notify: boolean, outcome?: typeof EXPIRED): void {
    if (this._ended) return;
    this._ended = true;
    // "replied" is what is left of `created` (stats.ts): the common end costs nothing here.
    if (reason !== undefined || this._resolve !== undefined || outcome !== undefined) {
      this._port._stats.end(reason, this._resolve !== undefined, outcome);
    }
    if (notify) this._notifyCancel(reason instanceof Error ? reason : new SessionCancelError("ended"));
    if (this._reject !== undefined) {
      this._fail(reason instanceof Error ? reason : new SessionCancelError(`${this} ended before its reply`), false);
    }
    const x = this._x;
    if (x !== undefined) {
      x.endReason = reason;
      x.controller?.abort(reason ?? new SessionCancelError(`${this} has ended`));
    }
    this._port._forget(this);
    this._emit("end", reason, this);
    this._port.manager._ended(this, reason);
  }

  private _extras(): SessionExtras {
    return (this._x ??= {
      onProgress: undefined,
      transfer: undefined,
      unwatch: undefined,
      controller: undefined,
      endReason: undefined,
    });
  }

  private _endedError(): SessionInvalidError {
    return new SessionInvalidError(`${this} has ended`);
  }

  private _backpressureError(): SessionChannelError {
    return new SessionChannelError(
      "BACKPRESSURE",
      `port "${this._port.name}": the peer is not reading (${this._port._queued()} queued, over the high-water mark); not sent`,
    );
  }

  private _timeoutError(): SessionTimeoutError {
    const attempts = this._attempt;
    if (attempts <= 1) return new SessionTimeoutError(`${this} got no reply within ${this._sendTimeout} ms`);
    const total = Math.round(now() - this._startedAt);
    return new SessionTimeoutError(
      `${this} got no reply to ${attempts} attempts in ${total} ms (${this._sendTimeout} ms each)`,
    );
  }
}

/** Rarely needed state, allocated on first use. @internal */
interface SessionExtras {
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  onProgress: ((message: any) => unknown) | undefined;
  transfer: TransferExtras | undefined;
  unwatch: (() => void) | undefined;
  controller: AbortController | undefined;
  endReason: unknown;
}

/**
 * A send failure no retry can mend: the device is known to be offline, or the message itself can
 * never be carried (too large for the channel, or not serializable: the sender threw a RangeError
 * or TypeError). Such a send fails at once, whatever its retryCount.
 */
function isFinal(error: SessionError): boolean {
  if (error instanceof SessionChannelError) return error.code === "OFFLINE" || error.code === "FRAME_TOO_LARGE";
  return error.cause instanceof RangeError || error.cause instanceof TypeError;
}

function abortedBySignal(signal: AbortSignal): SessionAbortError {
  return new SessionAbortError("send aborted by its AbortSignal", { cause: signal.reason });
}

/** Clears the protocol fields an echoed inbound message brought along. */
function clearEchoed(out: Message, direction: string): void {
  out[direction] = undefined;
  if (out.$try !== undefined) out.$try = undefined;
  if (out.$progress !== undefined) out.$progress = undefined;
  if (out.$cancel !== undefined) out.$cancel = undefined;
}

// The copy that goes on the wire holds the message's own enumerable string-keyed fields (what JSON
// and structured clone carry), plus a channel's transfer list (`Symbol.for("psession.transfer")`,
// set by @psession/worker's `transfer()`). A for-in loop, twice over on purpose: requests and
// answers have different shapes, and each loop keeps its own inline caches; together that is about
// 10% of a round trip faster than one Object.assign (docs/benchmarks.md).
const TRANSFER_LIST: unique symbol = Symbol.for("psession.transfer") as never;

function copyRequest(message: Message): Message {
  const out: Message = {};
  for (const key in message) {
    if (!hasOwn.call(message, key)) continue;
    if (key === "__proto__") defineProtoKey(out, message[key]);
    else out[key] = message[key];
  }
  const list = (message as { [TRANSFER_LIST]?: unknown })[TRANSFER_LIST];
  if (list !== undefined) (out as { [TRANSFER_LIST]?: unknown })[TRANSFER_LIST] = list;
  return out;
}

function copyAnswer(message: Message): Message {
  const out: Message = {};
  for (const key in message) {
    if (!hasOwn.call(message, key)) continue;
    if (key === "__proto__") defineProtoKey(out, message[key]);
    else out[key] = message[key];
  }
  const list = (message as { [TRANSFER_LIST]?: unknown })[TRANSFER_LIST];
  if (list !== undefined) (out as { [TRANSFER_LIST]?: unknown })[TRANSFER_LIST] = list;
  return out;
}

/** An own "__proto__" key (JSON.parse makes one) would be stored through the setter and become the prototype: define it. */
function defineProtoKey(out: Message, value: unknown): void {
  Object.defineProperty(out, "__proto__", { value, enumerable: true, writable: true, configurable: true });
}
