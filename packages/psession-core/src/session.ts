import { Emitter } from "./emitter.js";
import {
  SessionAbortError,
  SessionCancelError,
  SessionError,
  SessionInvalidError,
  SessionSendError,
  SessionTimeoutError,
  fromRemoteErrorInfo,
  toSendError,
} from "./errors.js";
import type { SessionManager } from "./manager.js";
import type { Port } from "./port.js";
import type { TimerNode } from "./timer-queue.js";
import type { Message, SendOptions, SessionEvents, SessionOptions } from "./types.js";

// What the timer node is waiting for.
const IDLE = 0;
const REPLY = 1;
const RETRY = 2;

type Resolve = (reply: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
type Reject = (error: Error) => void;

/**
 * One conversation with the remote, identified by `id` on its port. Local sessions are made by
 * `createSession()`; responder sessions by a remote message whose sid this side did not allocate.
 * A session holds at most one pending `send` at a time; it is also its own timer node, so a
 * pending send allocates nothing besides its promise and the tagged copy of the message.
 */
export class Session<Reply = any> extends Emitter<SessionEvents> implements TimerNode { // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly id: number;
  /** True for a session the remote opened (this side answers it). */
  readonly remote: boolean;
  /** @internal */ _port: Port;
  /** @internal */ _ended = false;
  /** @internal */ _once: boolean;
  /** @internal */ _handled = false;
  /** @internal Sweeps of the manager's idle clock since the last activity (see manager._sweep). */
  _idle = 0;
  private _options: SessionOptions | undefined;

  // The pending send, if any.
  private _resolve: Resolve | undefined = undefined;
  private _reject: Reject | undefined = undefined;
  private _out: Message | undefined = undefined;
  private _phase = IDLE;
  private _retriesLeft = 0;
  private _sendTimeout = 0;
  private _sendInterval = 0;
  private _attempt = 0;
  /** @internal Rarely needed state (AbortSignal, retry de-duplication), allocated on first use. */
  _x: SessionExtras | undefined = undefined;

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
   * Sends `message` (a copy carrying this session's id) and resolves with the remote's reply.
   * Rejects with SessionTimeoutError after the timeout (and all retries), SessionRemoteError when
   * the remote handler failed, SessionCancelError / SessionAbortError when cancelled or aborted,
   * SessionSendError when the transport cannot send.
   */
  send(message: Message, options?: SendOptions): Promise<Reply> {
    if (this._ended) return Promise.reject(this._endedError());
    if (this._resolve !== undefined) {
      return Promise.reject(
        new SessionInvalidError(`session ${this.id} on port "${this._port.name}" already has a send pending`),
      );
    }
    let out: Message;
    try {
      out = this._tag(message);
    } catch (error) {
      return Promise.reject(error);
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
      if (signal?.aborted) return Promise.reject(abortedBySignal(signal));
    }
    const promise = new Promise<Reply>((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this._sendTimeout = timeout > 0 ? timeout : Infinity;
    this._retriesLeft = retries > 0 ? Math.floor(retries) : 0;
    this._sendInterval = interval > 0 ? interval : 0;
    if (retries > 0) {
      const key = port.manager._retryKey;
      if (key !== false) out[key] = this._nextMark();
    }
    this._out = out;
    if (signal !== undefined) {
      const x = this._extras();
      x.signal = signal;
      signal.addEventListener("abort", (x.onAbort ??= () => this._abortedBySignal()));
    }
    this._sendAttempt();
    return promise;
  }

  /** Sends `message` with this session's id without waiting for a reply. */
  post(message: Message): void {
    if (this._ended) throw this._endedError();
    const out = this._tag(message);
    if (this._x?.inMark !== undefined) this._remember(out);
    this._port._post(out);
  }

  /**
   * Delivers a message from the remote to this session: it resolves the pending send, or,
   * when nothing is pending, starts a new turn (`handle()` handler or `next` listeners).
   */
  next(message: Message): void {
    const manager = this._port.manager;
    if (this._ended) {
      manager.report(
        new SessionInvalidError(`session ${this.id} on port "${this._port.name}" has ended; message dropped`),
        this._port,
      );
      return;
    }
    if (typeof message !== "object" || message === null) {
      manager.report(new SessionInvalidError(`session ${this.id}: next() needs a message object`), this._port);
      return;
    }
    const key = manager._retryKey;
    if (key !== false && message[key] !== undefined && this._isDuplicate(message[key])) return;
    this._idle = 0;
    const resolve = this._resolve;
    if (resolve !== undefined) {
      const failure = message[manager._errorKey];
      if (failure !== undefined) {
        this._fail(fromRemoteErrorInfo(failure));
        return;
      }
      this._clearPending();
      resolve(message);
      if (this._once) this._end(undefined);
      return;
    }
    if (this.remote && !this._handled) {
      this._handled = true;
      if (manager._handler !== undefined) {
        manager._runHandler(this, message);
        return;
      }
      if (!this._emit("next", message, this)) manager._unhandled(this);
      return;
    }
    if (!this._emit("next", message, this)) {
      manager.report(
        new SessionInvalidError(
          `session ${this.id} on port "${this._port.name}" got a message with no send pending and no "next" listener`,
        ),
        this._port,
      );
    }
  }

  /** Ends the session; a pending send rejects with SessionCancelError. */
  end(): void {
    this._end(undefined);
  }

  /** Rejects the pending send with SessionCancelError (never retried); a `once` session ends. */
  cancel(): void {
    const error = new SessionCancelError(`session ${this.id} on port "${this._port.name}" was cancelled`);
    if (this._resolve !== undefined) this._fail(error);
    else if (this._once) this._end(error);
  }

  /** Ends the session, rejecting its pending send with SessionAbortError (never retried). */
  abort(error?: unknown): void {
    this._end(
      error instanceof SessionAbortError
        ? error
        : new SessionAbortError(`session ${this.id} on port "${this._port.name}" was aborted`, { cause: error }),
    );
  }

  /** Rejects the pending send with SessionTimeoutError now, skipping any retries left. */
  timeout(): void {
    if (this._resolve !== undefined) this._fail(this._timeoutError());
  }

  // ---- internals ---------------------------------------------------------------------------

  /** @internal A "next"/"end" listener threw or rejected: report it on the manager. */
  override _onListenerError(error: unknown): void {
    this._port.manager.report(error, this._port);
  }

  /** @internal */
  _tag(message: Message): Message {
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      throw new TypeError("psession: a session message must be a plain object");
    }
    // Object.assign, not spread: spread falls off a fast path once messages have varied shapes.
    const out: Message = Object.assign({}, message);
    out[this._port.manager.sessionIdName] = this.id;
    return out;
  }

  private _sendAttempt(): void {
    const port = this._port;
    this._phase = REPLY;
    if (this._sendTimeout !== Infinity) port.manager._queue.add(this, this._sendTimeout);
    const out = this._out!;
    if (this._x?.inMark !== undefined) this._remember(out);
    const sender = port._sender;
    if (sender === undefined) {
      this._attemptFailed(new SessionSendError(`port "${port.name}" has no transport attached`));
      return;
    }
    const attempt = ++this._attempt;
    try {
      const result = sender(out);
      if (result !== undefined && typeof result.then === "function") {
        result.then(undefined, (error: unknown) => {
          if (this._attempt === attempt && this._phase === REPLY) this._attemptFailed(toSendError(error, port.name));
        });
      }
    } catch (error) {
      this._attemptFailed(toSendError(error, port.name));
    }
  }

  /** @internal An attempt could not be sent (or its connection went away): retry or fail. */
  _attemptFailed(error: SessionError): void {
    if (this._resolve === undefined) return;
    this._port.manager._queue.remove(this);
    if (this._retriesLeft > 0) {
      this._retriesLeft--;
      this._scheduleRetry();
    } else {
      this._fail(error);
    }
  }

  /** @internal The port's transport closed (reconnect mode): a send waiting for its reply fails this attempt. */
  _connectionLost(error: SessionError): void {
    if (this._phase === REPLY) this._attemptFailed(error);
  }

  private _scheduleRetry(): void {
    if (this._sendInterval > 0) {
      this._phase = RETRY;
      this._port.manager._queue.add(this, this._sendInterval);
    } else {
      this._sendAttempt();
    }
  }

  /** @internal Called by the timer queue when this session's deadline passes. */
  _onTimer(): void {
    if (this._phase === RETRY) {
      this._sendAttempt();
    } else if (this._phase === REPLY) {
      if (this._retriesLeft > 0) {
        this._retriesLeft--;
        this._scheduleRetry();
      } else {
        this._fail(this._timeoutError());
      }
    }
  }

  /** @internal Rejects the pending send with `error`; a `once` session then ends. */
  _fail(error: Error): void {
    const reject = this._reject;
    if (reject === undefined) return;
    this._clearPending();
    reject(error);
    if (this._once) this._end(error);
  }

  private _clearPending(): void {
    if (this._bucket !== null) this._port.manager._queue.remove(this);
    this._resolve = this._reject = undefined;
    this._out = undefined;
    this._phase = IDLE;
    const x = this._x;
    if (x?.signal !== undefined) {
      x.signal.removeEventListener("abort", x.onAbort!);
      x.signal = undefined;
    }
  }

  private _abortedBySignal(): void {
    const signal = this._x?.signal;
    if (signal !== undefined) this._fail(abortedBySignal(signal));
  }

  /** @internal */
  _end(reason: unknown): void {
    if (this._ended) return;
    this._ended = true;
    if (this._reject !== undefined) {
      this._fail(
        reason instanceof Error
          ? reason
          : new SessionCancelError(`session ${this.id} on port "${this._port.name}" ended before its reply`),
      );
    }
    this._port._forget(this);
    this._emit("end", reason, this);
    this._port.manager._ended(this, reason);
  }

  // Retry de-duplication. A retryable send carries a mark unique to (session, turn): the same
  // mark on every attempt. The receiving side keeps the last mark it saw and what it sent after
  // it: a repeated mark is a re-sent turn, answered by re-sending that reply (or dropped while it
  // is still being worked on), so a retried command runs once.

  /** @internal */
  _extras(): SessionExtras {
    return (this._x ??= {
      signal: undefined,
      onAbort: undefined,
      token: undefined,
      turn: 0,
      inMark: undefined,
      lastOut: undefined,
      lastOutFor: undefined,
    });
  }

  private _nextMark(): string {
    const x = this._extras();
    x.token ??= this._port.manager._newToken();
    return `${x.token}.${++x.turn}`;
  }

  private _isDuplicate(mark: unknown): boolean {
    const x = this._extras();
    if (mark !== x.inMark) {
      x.inMark = mark;
      return false;
    }
    if (x.lastOutFor === mark && x.lastOut !== undefined) this._port._resend(x.lastOut);
    return true;
  }

  private _remember(out: Message): void {
    const x = this._x!;
    x.lastOut = out;
    x.lastOutFor = x.inMark;
  }

  private _endedError(): SessionInvalidError {
    return new SessionInvalidError(`session ${this.id} on port "${this._port.name}" has ended`);
  }

  private _timeoutError(): SessionTimeoutError {
    return new SessionTimeoutError(
      `session ${this.id} on port "${this._port.name}" got no reply within ${this._sendTimeout} ms`,
    );
  }
}

/** @internal */
export interface SessionExtras {
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  // Retry de-duplication: this session's mark token and turn, the last mark received, and the
  // last message sent after it (the reply to re-send when that mark comes again).
  token: string | undefined;
  turn: number;
  inMark: unknown;
  lastOut: Message | undefined;
  lastOutFor: unknown;
}

function abortedBySignal(signal: AbortSignal): SessionAbortError {
  return new SessionAbortError("send aborted by its AbortSignal", { cause: signal.reason });
}
