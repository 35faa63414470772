import { Emitter } from "./emitter.js";
import {
  SessionCancelError,
  SessionError,
  SessionInvalidError,
  SessionRemoteError,
  SessionTimeoutError,
  toRemoteErrorInfo,
} from "./errors.js";
import { Port } from "./port.js";
import { Session } from "./session.js";
import { TimerQueue } from "./timer-queue.js";
import type {
  Handler,
  ManagerEvents,
  Message,
  PortOptions,
  SendOptions,
  SessionManagerOptions,
  SessionOptions,
} from "./types.js";

const hasOwn = Object.prototype.hasOwnProperty;

type PlatformTimer = ReturnType<typeof setInterval> & { unref?(): unknown };

/**
 * Tags outgoing messages with a session id, routes replies back to the waiting session, and
 * answers sessions the remote opens. Transport-agnostic: give it a `sender`, or `attach()` it.
 */
export class SessionManager extends Emitter<ManagerEvents> {
  readonly sessionIdName: string;
  readonly sessionTimeout: number;
  readonly sessionMaxLife: number;
  readonly maxSessionCount: number;
  readonly retryCount: number;
  readonly retryInterval: number;
  readonly onSessionOverflow: ((port: Port) => number | undefined) | undefined;
  /** The "default" port, whose sender is `options.sender`. */
  readonly default: Port;
  /** @internal */ readonly _queue = new TimerQueue();
  /** @internal */ readonly _ports = new Map<string, Port>();
  /** @internal */ _handler: Handler | undefined = undefined;
  /** @internal */ readonly _retryKey: string | false;
  /** @internal */ readonly _errorKey: string;
  private readonly _epoch = Math.floor(Math.random() * 0x7fffffff).toString(36);
  private _serial = 0;
  private _live = 0;
  private _sweeper: PlatformTimer | undefined = undefined;
  private readonly _sweepEvery: number;

  constructor(options: SessionManagerOptions = {}) {
    super();
    this.sessionIdName = options.sessionIdName ?? "sid";
    this.sessionTimeout = options.sessionTimeout ?? 60_000;
    this.sessionMaxLife = options.sessionMaxLife ?? 600_000;
    this.maxSessionCount = Math.max(1, Math.floor(options.maxSessionCount ?? 65_535));
    this.retryCount = options.retryCount ?? 0;
    this.retryInterval = options.retryInterval ?? 0;
    this.onSessionOverflow = options.onSessionOverflow;
    this._retryKey = options.retryKey ?? "$retry";
    this._errorKey = options.errorKey ?? "$error";
    // README: sessions are checked every sessionTimeout/2; bounded so maxLife is honoured too.
    this._sweepEvery = Math.round(Math.min(30_000, Math.max(10, Math.min(this.sessionTimeout, this.sessionMaxLife) / 2)));
    this.default = new Port(this, "default", { sender: options.sender });
    this._ports.set("default", this.default);
  }

  /** Every port by name, "default" included. */
  get ports(): ReadonlyMap<string, Port> {
    return this._ports;
  }

  /** Number of live sessions over all ports. */
  get size(): number {
    return this._live;
  }

  /** Adds a port: its own sid space and sender, with settings overriding the manager's. */
  createPort(name: string, options: PortOptions = {}): Port {
    const existing = this._ports.get(name);
    if (existing !== undefined) {
      if (existing !== this.default) {
        throw new SessionError(`port "${name}" already exists; destroy it first, or attach() to re-bind it`);
      }
      existing._configure(options);
      return existing;
    }
    const port = new Port(this, name, options);
    this._ports.set(name, port);
    return port;
  }

  /** `createSession()`, `createSession("port")`, `createSession(options)` or `createSession("port", options)`. */
  createSession(port?: string | Port | SessionOptions, options?: SessionOptions): Session {
    let target: Port | undefined = this.default;
    if (typeof port === "string") target = this._ports.get(port);
    else if (port instanceof Port) target = port._destroyed ? undefined : port;
    else if (port !== undefined) options = port;
    if (target === undefined) {
      const name = typeof port === "string" ? port : (port as Port).name;
      throw new SessionInvalidError(`unknown port "${name}": create it with createPort() or attach() first`);
    }
    return this._create(target, options);
  }

  /** One-shot request on the default port. */
  request<Reply = any>(message: Message, options?: SendOptions): Promise<Reply> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return this.default.request<Reply>(message, options);
  }

  /** True when `message` is an object with an own, valid session id (1..maxSessionCount). Never throws. */
  isSession(message: unknown): boolean {
    if (typeof message !== "object" || message === null) return false;
    try {
      const id = (message as Message)[this.sessionIdName];
      return (
        typeof id === "number" &&
        id > 0 &&
        id <= this.maxSessionCount &&
        Number.isInteger(id) &&
        hasOwn.call(message, this.sessionIdName) &&
        !Array.isArray(message)
      );
    } catch {
      return false;
    }
  }

  /**
   * The session `message` belongs to on `port`: a local session waiting for it, or a new
   * responder session when the remote opened one (emits "session:create"). Undefined for a
   * non-session message, an unknown port, a late reply, or a retried turn already answered.
   * Never throws.
   */
  getSession(message: unknown, port: string | Port = "default"): Session | undefined {
    if (!this.isSession(message)) return undefined;
    const target = typeof port === "string" ? this._ports.get(port) : port;
    if (target === undefined || target._destroyed) {
      this.report(new SessionInvalidError(`message for unknown port "${String(port)}"`), undefined);
      return undefined;
    }
    try {
      return this._lookup(message as Message, target);
    } catch (error) {
      this.report(error, target);
      return undefined;
    }
  }

  /**
   * Routes one inbound message: `isSession` → `getSession` → `next`; anything else goes to the
   * "message" event, or "error" when it carries an invalid sid. This is what `attach()` calls for
   * every message; it never throws.
   */
  receive(message: unknown, port: string | Port = this.default): void {
    const target = typeof port === "string" ? this._ports.get(port) : port;
    if (target === undefined || target._destroyed) {
      this.report(new SessionInvalidError(`message for unknown port "${String(port)}"`), undefined);
      return;
    }
    try {
      if (this.isSession(message)) {
        const session = this._lookup(message as Message, target);
        if (session !== undefined) session.next(message as Message);
        return;
      }
      const name = this.sessionIdName;
      if (typeof message === "object" && message !== null && hasOwn.call(message, name)) {
        this.report(
          new SessionInvalidError(`invalid ${name} ${describe((message as Message)[name])}: message dropped`),
          target,
        );
      } else if (!this._emit("message", message, target)) {
        this.report(
          new SessionInvalidError(`message without ${name} and no "message" listener: dropped`),
          target,
        );
      }
    } catch (error) {
      this.report(error, target);
    }
  }

  /**
   * Answers every session the remote opens: the handler's return value (or resolved value) goes
   * back with the same sid and the responder session ends; a thrown error goes back so that the
   * initiator's send rejects with SessionRemoteError. Returns a function that removes the handler.
   */
  handle(handler: Handler): () => void {
    this._handler = handler;
    return () => {
      if (this._handler === handler) this._handler = undefined;
    };
  }

  /** Ends every session of every port (pending sends reject with SessionCancelError). */
  clear(): void {
    const error = new SessionCancelError("session manager cleared");
    for (const session of this._allSessions()) session._end(error);
    this._queue.stop();
  }

  /** Cancels every pending send. */
  cancel(): void {
    for (const session of this._allSessions()) session.cancel();
  }

  /** Aborts every session. */
  abort(error?: unknown): void {
    for (const session of this._allSessions()) session.abort(error);
  }

  /** Times out every pending send now. */
  timeout(): void {
    for (const session of this._allSessions()) session.timeout();
  }

  // ---- internals ---------------------------------------------------------------------------

  /** @internal */
  _create(port: Port, options: SessionOptions | undefined): Session {
    if (port._destroyed) throw new SessionInvalidError(`port "${port.name}" was destroyed`);
    const session = new Session(port, port._allocate(), false, options);
    this._added(port, session);
    return session;
  }

  /** @internal */
  _lookup(message: Message, port: Port): Session | undefined {
    const id = message[this.sessionIdName] as number;
    const session = port._sessions.get(id);
    if (session !== undefined) return session;
    if (port._isOwnId(id)) {
      this.report(
        new SessionInvalidError(`no session ${id} on port "${port.name}": a late or duplicate reply was dropped`),
        port,
      );
      return undefined;
    }
    if (this._retryKey !== false) {
      const mark = message[this._retryKey];
      if (mark !== undefined && port._replay(id, mark)) return undefined;
    }
    const remote = new Session(port, id, true, undefined);
    this._added(port, remote);
    return remote;
  }

  private _added(port: Port, session: Session): void {
    port._add(session);
    if (++this._live === 1) this._startSweeper();
    if (this._listeners?.["session:create"] !== undefined) this._emit("session:create", session);
  }

  /** @internal */
  _ended(session: Session, reason: unknown): void {
    this._live--;
    if (this._listeners?.["session:end"] !== undefined) this._emit("session:end", session, reason);
  }

  /** @internal */
  _runHandler(session: Session, message: Message): void {
    let result: unknown;
    try {
      result = this._handler!(message, session);
    } catch (error) {
      this._answer(session, error, true);
      return;
    }
    if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
      (result as PromiseLike<unknown>).then(
        (value) => this._answer(session, value, false),
        (error: unknown) => this._answer(session, error, true),
      );
    } else {
      this._answer(session, result, false);
    }
  }

  private _answer(session: Session, value: unknown, failed: boolean): void {
    if (session._ended) {
      // The handler outlived its session (cancelled, port closed): nothing to answer.
      if (failed && !(value instanceof SessionError)) this.report(asError(value), session._port);
      return;
    }
    let reply: Message;
    if (failed) {
      reply = { [this._errorKey]: toRemoteErrorInfo(value) };
    } else if (value === undefined) {
      reply = {};
    } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      reply = value as Message;
    } else {
      const error = new SessionInvalidError("handle(): the handler must return an object (or nothing)");
      this.report(error, session._port);
      reply = { [this._errorKey]: toRemoteErrorInfo(error) };
    }
    try {
      session.post(reply);
    } catch (error) {
      this.report(error, session._port);
    }
    session._end(undefined);
  }

  /** @internal A remote opened a session and nobody on this side listens: tell it, don't leave it hanging. */
  _unhandled(session: Session): void {
    const error = new SessionRemoteError({
      name: "SessionUnhandledError",
      message: `no handler for session ${session.id} on port "${session.port}"`,
    });
    this.report(error, session._port);
    try {
      session.post({ [this._errorKey]: error.remote });
    } catch {
      // the port cannot send; already reported above
    }
    session._end(undefined);
  }

  /**
   * Puts `error` on the "error" event (or `console.warn` when nobody listens). For transports and
   * adapters: a frame that cannot be decoded, a dead connection, anything that must not throw.
   */
  report(error: unknown, port?: Port): void {
    const e = asError(error);
    if (!this._emit("error", e, port)) {
      // Nothing is dropped silently: without an "error" listener it still shows up.
      console.warn(`[psession]${port ? ` port "${port.name}":` : ""} ${e.message}`);
    }
  }

  /** @internal */
  override _onListenerError(error: unknown, event: string): void {
    if (event === "error") {
      console.warn("[psession] an error listener failed:", error);
      return;
    }
    this.report(error, undefined);
  }

  /** @internal A token unique to this manager instance and session, for retry marks. */
  _newToken(): string {
    return `${this._epoch}${(++this._serial).toString(36)}`;
  }

  private *_allSessions(): Generator<Session> {
    for (const port of [...this._ports.values()]) yield* port._sessions.values();
  }

  // Idle sessions older than their port's sessionMaxLife end by themselves. One unref'd interval
  // runs while any session lives.
  private _startSweeper(): void {
    if (this._sweeper !== undefined) return;
    const timer = setInterval(this._sweep, this._sweepEvery) as PlatformTimer;
    timer.unref?.();
    this._sweeper = timer;
  }

  private readonly _sweep = (): void => {
    if (this._live === 0) {
      clearInterval(this._sweeper);
      this._sweeper = undefined;
      return;
    }
    // No clock on the hot path: activity resets a session's `_idle` count, each sweep adds its
    // interval, so an idle session ends between maxLife and maxLife + one interval.
    const every = this._sweepEvery;
    for (const port of [...this._ports.values()]) {
      const maxLife = port.sessionMaxLife;
      if (!(maxLife > 0) || maxLife === Infinity) continue;
      port._sessions.compact();
      for (const session of port._sessions.values()) {
        if (session.pending) session._idle = 0;
        else if ((session._idle += every) > maxLife) {
          session._end(
            new SessionTimeoutError(`session ${session.id} on port "${port.name}" expired: idle longer than ${maxLife} ms`),
          );
        }
      }
    }
  };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new SessionError(String(value));
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return `of type ${Array.isArray(value) ? "array" : typeof value}`;
}
