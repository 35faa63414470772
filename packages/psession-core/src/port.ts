import { SessionAbortError, SessionCancelError, SessionError, SessionSendError, toSendError } from "./errors.js";
import type { SessionManager } from "./manager.js";
import { Session } from "./session.js";
import { SidTable } from "./sid-table.js";
import type { Message, PortOptions, Role, SendOptions, Sender, SessionOptions } from "./types.js";

/** Replies kept per port so a retried turn of an ended responder session is answered, not re-run. */
const REPLAY_CACHE_SIZE = 256;

const ONCE: SessionOptions = { once: true };

/**
 * One remote peer: its own sid space, sender and settings. Made by `manager.createPort()` or
 * `attach()`; the manager's "default" port always exists.
 */
export class Port {
  readonly name: string;
  readonly manager: SessionManager;
  role: Role | undefined;
  sessionTimeout: number;
  sessionMaxLife: number;
  maxSessionCount: number;
  retryCount: number;
  retryInterval: number;
  onSessionOverflow: ((port: Port) => number | undefined) | undefined;
  /** @internal */ _sender: Sender | undefined;
  /** @internal */ _sessions = new SidTable<Session>();
  /** @internal */ _destroyed = false;
  /** @internal Undoes the current attach(): removes the transport's listeners. */
  _detach: (() => void) | undefined = undefined;
  /** @internal On transport close keep the sessions for a re-attach instead of destroying. */
  _reconnect = false;
  private _first = 1;
  private _step = 1;
  private _capacity = 0;
  private _cursor = 1;
  /** Until the cursor first wraps, every id at or past it is free (with a role, remote ids never share our parity). */
  private _fresh = true;
  private _local = 0;
  private _oldest: Session | undefined = undefined;
  private _newest: Session | undefined = undefined;
  private _replies: Map<number, { mark: unknown; out: Message }> | undefined = undefined;

  /** @internal */
  constructor(manager: SessionManager, name: string, options: PortOptions) {
    this.manager = manager;
    this.name = name;
    this.sessionTimeout = manager.sessionTimeout;
    this.sessionMaxLife = manager.sessionMaxLife;
    this.maxSessionCount = manager.maxSessionCount;
    this.retryCount = manager.retryCount;
    this.retryInterval = manager.retryInterval;
    this.onSessionOverflow = manager.onSessionOverflow;
    this.role = undefined;
    this._sender = undefined;
    this._configure(options);
  }

  /** @internal */
  _configure(options: PortOptions): void {
    if ("sender" in options) this._sender = options.sender;
    if (options.sessionTimeout !== undefined) this.sessionTimeout = options.sessionTimeout;
    if (options.sessionMaxLife !== undefined) this.sessionMaxLife = options.sessionMaxLife;
    if (options.retryCount !== undefined) this.retryCount = options.retryCount;
    if (options.retryInterval !== undefined) this.retryInterval = options.retryInterval;
    if (options.onSessionOverflow !== undefined) this.onSessionOverflow = options.onSessionOverflow;
    if (options.maxSessionCount !== undefined) {
      // isSession() checks the manager's bound, so a port may only narrow it.
      this.maxSessionCount = Math.max(1, Math.min(Math.floor(options.maxSessionCount), this.manager.maxSessionCount));
    }
    if (options.role !== undefined) this.role = options.role;
    const max = this.maxSessionCount;
    this._step = this.role === undefined ? 1 : 2;
    this._first = this.role === "server" ? 2 : 1;
    this._capacity = this._step === 1 ? max : this._first === 1 ? Math.ceil(max / 2) : Math.floor(max / 2);
    if (this._cursor > max || (this._cursor - this._first) % this._step !== 0) this._cursor = this._first;
    if (this._sessions.size > 0) this._fresh = false;
  }

  /** A snapshot of this port's live sessions by id (local and remote-initiated). */
  get sessions(): ReadonlyMap<number, Session> {
    return new Map(this._sessions.values().map((s) => [s.id, s]));
  }

  /** Number of live sessions on this port. */
  get size(): number {
    return this._sessions.size;
  }

  get destroyed(): boolean {
    return this._destroyed;
  }

  /** True while a sender (a transport) is bound to this port. */
  get attached(): boolean {
    return this._sender !== undefined;
  }

  /** Creates a session on this port. */
  createSession(options?: SessionOptions): Session {
    return this.manager._create(this, options);
  }

  /** One-shot request: a `once` session that sends `message` and ends with its reply. */
  request<Reply = any>(message: Message, options?: SendOptions): Promise<Reply> { // eslint-disable-line @typescript-eslint/no-explicit-any
    let session: Session<Reply>;
    try {
      session = this.manager._create(this, ONCE);
    } catch (error) {
      return Promise.reject(error);
    }
    return session.send(message, options);
  }

  /**
   * Ends every session of this port at once (pending sends reject with SessionAbortError), removes
   * the transport's listeners and the port. The "default" port is emptied and detached but stays.
   */
  destroy(reason?: unknown): void {
    if (this._destroyed) return;
    const error =
      reason instanceof SessionAbortError
        ? reason
        : new SessionAbortError(`port "${this.name}" was destroyed`, reason === undefined ? undefined : { cause: reason });
    this._unbind();
    this._sender = undefined;
    this._replies = undefined;
    for (const session of this._sessions.values()) session._end(error);
    if (this !== this.manager.default) {
      this._destroyed = true;
      this.manager._ports.delete(this.name);
    }
  }

  /** @deprecated Misspelt alias of `destroy()` kept for the Chinese README. */
  destory(reason?: unknown): void {
    this.destroy(reason);
  }

  // ---- internals ---------------------------------------------------------------------------

  /** @internal The transport went away. */
  _transportClosed(reason: unknown): void {
    const error = new SessionAbortError(
      `port "${this.name}": connection closed`,
      reason === undefined ? undefined : { cause: reason },
    );
    if (!this._reconnect) {
      this.destroy(error);
      return;
    }
    // Kept for a re-attach: sends with retries left retry (on the new transport if there is one
    // by then), the others fail now rather than at their timeout.
    this._unbind();
    this._sender = undefined;
    for (const session of this._sessions.values()) session._connectionLost(error);
  }

  /** @internal */
  _unbind(): void {
    const detach = this._detach;
    this._detach = undefined;
    if (detach !== undefined) detach();
  }

  /** @internal Next free local sid: O(1) unless ids are taken by remote sessions (no role). */
  _allocate(): number {
    if (this._fresh && this._step === 2) {
      const id = this._cursor;
      const next = id + 2;
      if (next > this.maxSessionCount) {
        this._fresh = false;
        this._cursor = this._first;
      } else this._cursor = next;
      return id;
    }
    if (this._local < this._capacity) {
      const sessions = this._sessions;
      const step = this._step;
      const max = this.maxSessionCount;
      let id = this._cursor;
      for (let n = 0; n < this._capacity; n++) {
        const candidate = id;
        id += step;
        if (id > max) id = this._first;
        if (!sessions.has(candidate)) {
          this._cursor = id;
          return candidate;
        }
      }
    }
    return this._recycle();
  }

  /** @internal All ids in use: cancel the session onSessionOverflow picks (default the oldest). */
  private _recycle(): number {
    let victim: Session | undefined;
    const chosen = this.onSessionOverflow?.(this);
    if (typeof chosen === "number") {
      const s = this._sessions.get(chosen);
      if (s !== undefined && !s.remote) victim = s;
    }
    victim ??= this._oldest;
    if (victim === undefined) throw new SessionError(`port "${this.name}" has no session id to allocate`);
    victim._end(
      new SessionCancelError(`session ${victim.id} on port "${this.name}" was recycled: all session ids were in use`),
    );
    return victim.id;
  }

  /** @internal */
  _add(session: Session): void {
    this._sessions.add(session);
    if (session.remote) return;
    this._local++;
    const newest = this._newest;
    session._older = newest;
    if (newest !== undefined) newest._newer = session;
    else this._oldest = session;
    this._newest = session;
  }

  /** @internal */
  _forget(session: Session): void {
    // A session is in the map under its id until it ends, and ends once.
    if (this._sessions.delete(session) && !session.remote) {
      this._local--;
      const { _older: older, _newer: newer } = session;
      if (older !== undefined) older._newer = newer;
      else this._oldest = newer;
      if (newer !== undefined) newer._older = older;
      else this._newest = older;
      session._older = session._newer = undefined;
    }
    const x = session._x;
    if (x !== undefined && x.inMark !== undefined && x.lastOutFor === x.inMark && x.lastOut !== undefined) {
      const replies = (this._replies ??= new Map());
      replies.delete(session.id);
      replies.set(session.id, { mark: x.inMark, out: x.lastOut });
      if (replies.size > REPLAY_CACHE_SIZE) replies.delete(replies.keys().next().value!);
    }
  }

  /** @internal Is `id` in the half of the sid space this side allocates from? */
  _isOwnId(id: number): boolean {
    return this._step === 2 && (id & 1) === (this._first & 1);
  }

  /** @internal Re-sends the reply to an ended session's turn when that turn is retried. */
  _replay(id: number, mark: unknown): boolean {
    const entry = this._replies?.get(id);
    if (entry === undefined || entry.mark !== mark) return false;
    this._resend(entry.out);
    return true;
  }

  /** @internal Fire-and-forget send; failures go to the manager's error event. */
  _post(out: Message): void {
    const sender = this._sender;
    if (sender === undefined) throw new SessionSendError(`port "${this.name}" has no transport attached`);
    let result: void | Promise<void>;
    try {
      result = sender(out);
    } catch (error) {
      throw toSendError(error, this.name);
    }
    if (result !== undefined && typeof result.then === "function") {
      result.then(undefined, (error: unknown) => this.manager.report(toSendError(error, this.name), this));
    }
  }

  /** @internal */
  _resend(out: Message): void {
    try {
      this._post(out);
    } catch (error) {
      this.manager.report(error as Error, this);
    }
  }
}
