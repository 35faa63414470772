import { now } from "./clock.js";
import { describeConnectionPorts } from "./connections.js";
import { Emitter } from "./emitter.js";
import { SessionCancelError, SessionError, SessionInvalidError, SessionTimeoutError } from "./errors.js";
import { Port } from "./port.js";
import {
  listPorts,
  listSessions,
  type Page,
  type PortFilter,
  type PortSnapshot,
  type SessionFilter,
  type SessionSnapshot,
} from "./listing.js";
import { ReplayCache } from "./replay-cache.js";
import { Session } from "./session.js";
import { Counters, EXPIRED, type ManagerStats, type PortState, type StatsOptions } from "./stats.js";
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
// Wire fields ($turn, $re, $try, $progress, $cancel; docs/protocol.md) are plain property accesses:
// literal names keep V8 on its fast named-property path.

const hasOwn = Object.prototype.hasOwnProperty;
const inspect: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;
/** Longest pause between idle sweeps, and the keep-alive tick while a send waits without a timeout. */
const MAX_SWEEP = 30_000;
/** Longest pause between ticks of the coarse clock (session times, port liveness). */
const TICK = 1000;

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
  /** @internal False: only the sid goes on the wire (no turns, cancel or progress). */
  readonly _wire: boolean;
  /** @internal */ readonly _errorKey: string;
  /** @internal */ readonly _replays: ReplayCache;
  /**
   * @internal The coarse clock (monotonic ms): read by each tick (every second, or every sweep
   * when that is shorter) and by each stats or listing call, never per message. Session and port
   * times are stamped from it.
   */
  _tick = Math.floor(now());
  /**
   * @internal Epoch ms minus monotonic ms, taken once: times handed out (`lastSeen`, `createdAt`)
   * are the monotonic clock on the epoch scale of the manager's start, so they never jump.
   */
  readonly _epoch = Date.now() - now();
  /** Counters of destroyed ports, so the manager's totals never go down. */
  private readonly _retired = new Counters();
  private _destroyedPorts = 0;
  private readonly _resolvers: ((name: string) => Port | undefined)[] = [];
  private _live = 0;
  private _sweeper: PlatformTimer | undefined = undefined;
  private _sweepEvery: number;
  /** The interval the tick timer runs at now, and when the idle sweep last walked the sessions. */
  private _tickEvery = 0;
  /** The tick's interval while sessions live: min(TICK, _sweepEvery). */
  private _fastEvery: number;
  private _walkedAt = 0;
  // Sends waiting without a timeout still keep Node alive (README): a ref'd timer while any does.
  private _open = 0;
  private _keepAlive: PlatformTimer | undefined = undefined;

  constructor(options: SessionManagerOptions = {}) {
    super();
    this.sessionIdName = options.sessionIdName ?? "sid";
    this.sessionTimeout = options.sessionTimeout ?? 60_000;
    this.sessionMaxLife = options.sessionMaxLife ?? 600_000;
    this.maxSessionCount = Math.max(1, Math.floor(options.maxSessionCount ?? 65_535));
    this.retryCount = options.retryCount ?? 0;
    this.retryInterval = options.retryInterval ?? 0;
    this.onSessionOverflow = options.onSessionOverflow;
    this._wire = options.protocolFields !== false;
    this._errorKey = options.errorKey ?? "$error";
    this._replays = new ReplayCache(options.replayCacheSize ?? 4096, options.replayCacheBytes ?? 4 * 1024 * 1024);
    this._sweepEvery = sweepInterval(this.sessionTimeout, this.sessionMaxLife);
    this._fastEvery = Math.min(TICK, this._sweepEvery);
    this.default = new Port(this, "default", { sender: options.sender });
    this._ports.set("default", this.default);
    this.default._announce();
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
    port._announce();
    return port;
  }

  /**
   * Lets an adapter make ports on first use: when a port name is not known (`createSession(name)`,
   * `request(name, ...)`), each resolver may create it (usually with `attach()`) and return it.
   * Returns the function that removes the resolver.
   */
  addPortResolver(resolver: (name: string) => Port | undefined): () => void {
    this._resolvers.push(resolver);
    return () => {
      const i = this._resolvers.indexOf(resolver);
      if (i >= 0) this._resolvers.splice(i, 1);
    };
  }

  /** The port named `name`, made by a port resolver when there is none yet. */
  port(name: string): Port | undefined {
    const port = this._ports.get(name);
    if (port !== undefined || this._resolvers.length === 0) return port;
    for (const resolve of [...this._resolvers]) {
      let made: Port | undefined;
      try {
        made = resolve(name);
      } catch (error) {
        this.report(error, undefined);
      }
      if (made !== undefined && !made._destroyed) return made;
    }
    return undefined;
  }

  /** `createSession()`, `createSession("port")`, `createSession(options)` or `createSession("port", options)`. */
  createSession(port?: string | Port | SessionOptions, options?: SessionOptions): Session {
    let target: Port | undefined = this.default;
    if (typeof port === "string") target = this.port(port);
    else if (port instanceof Port) target = port._destroyed ? undefined : port;
    else if (port !== undefined) options = port;
    if (target === undefined) {
      const name = typeof port === "string" ? port : (port as Port).name;
      throw new SessionInvalidError(`unknown port "${name}": create it with createPort() or attach() first`);
    }
    return this._create(target, options);
  }

  /** One-shot request: `request(message, options?)` on the default port, or `request("port", message, options?)`. */
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  request<Reply = any>(message: Message, options?: SendOptions): Promise<Reply>;
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  request<Reply = any>(port: string, message: Message, options?: SendOptions): Promise<Reply>;
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  request<Reply = any>(a: string | Message, b?: Message | SendOptions, c?: SendOptions): Promise<Reply> {
    if (typeof a !== "string") return this.default.request<Reply>(a, b as SendOptions | undefined);
    const port = this.port(a);
    if (port === undefined) {
      return Promise.reject(
        new SessionInvalidError(`unknown port "${a}": create it with createPort() or attach() first`),
      );
    }
    return port.request<Reply>(b as Message, c);
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
    target._stats.received++;
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
    target._stats.received++;
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
        this.report(new SessionInvalidError(`message without ${name} and no "message" listener: dropped`), target);
      }
    } catch (error) {
      this.report(error, target);
    }
  }

  /**
   * Answers every session the remote opens: the handler's return value (or resolved value) goes
   * back with the same sid and the responder session ends; a thrown error goes back so that the
   * initiator's send rejects with SessionRemoteError. The handler gets the session too: its
   * `signal` aborts when the initiator cancels, and `session.progress()` sends interim messages.
   * One handler per manager: calling `handle()` again replaces the previous one. Returns a
   * function that removes the handler.
   */
  handle(handler: Handler): () => void {
    this._handler = handler;
    return () => {
      if (this._handler === handler) this._handler = undefined;
    };
  }

  /**
   * Statistics of every port summed (destroyed ports included, so totals never go down), and how
   * many ports are in each state. A plain object, made on each call; see `port.stats()`.
   */
  stats(options?: StatsOptions): ManagerStats {
    this._observe();
    const sum = new Counters();
    sum.merge(this._retired);
    const ports: Record<PortState, number> = { attached: 0, detached: 0, destroyed: this._destroyedPorts };
    for (const port of this._ports.values()) {
      sum.merge(port._stats);
      ports[port.state]++;
    }
    return { ports, ...sum.snapshot(this._live, options) };
  }

  /**
   * Live sessions as plain snapshots, filtered and paged:
   * `sessions({ port, remote, pending, idleFor, limit = 100, offset = 0 })` → `{ total, items }`.
   * Walks the sessions on each call; ordered by port (creation order), then id.
   */
  sessions(filter: SessionFilter = {}): Page<SessionSnapshot> {
    const t = this._observe();
    let ports: Iterable<Port> = this._ports.values();
    if (filter.port !== undefined) {
      const port = typeof filter.port === "string" ? this._ports.get(filter.port) : filter.port;
      ports = port === undefined || port._destroyed || port.manager !== this ? [] : [port];
    }
    return listSessions(ports, filter, { t, offset: this._epoch });
  }

  /** Ports as plain snapshots, filtered and paged: `listPorts({ state, silentFor, limit = 100, offset = 0 })`. */
  listPorts(filter: PortFilter = {}): Page<PortSnapshot> {
    const t = this._observe();
    return listPorts(this._ports.values(), filter, { t, offset: this._epoch });
  }

  /** Ends every session of every port (pending sends reject with SessionCancelError). */
  clear(): void {
    const error = new SessionCancelError("session manager cleared");
    for (const session of this._allSessions()) session._end(error, session.pending);
    // A "session:end" listener may have started a new send: its timer must stay.
    if (this._queue.size === 0) this._queue.stop();
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

  /**
   * The live session `message` belongs to, or a new responder session when it opens
   * one. Undefined for a late, duplicated, stale or forged answer: an answer never opens a
   * session, so no exchange between two peers can go on by itself (docs/protocol.md).
   */
  private _lookup(message: Message, port: Port): Session | undefined {
    const id = message[this.sessionIdName] as number;
    const session = port._sessions.get(id);
    if (session !== undefined) return session;
    if (this._wire) {
      if (message.$cancel !== undefined) return undefined; // nothing left to cancel
      if (message.$re !== undefined || message.$progress !== undefined || message[this._errorKey] !== undefined) {
        const turn = message.$turn;
        if (typeof turn === "number" && !port._isOwnId(id) && !port._endedLately(id)) {
          // The opener's later turn (it carries the turn it follows) for a session that ended here.
          if (!port._repeat(id, turn, message.$try !== undefined)) this._strayTurn(id, turn, port);
          return undefined;
        }
        // A re-sent attempt ($try ≥ 2) of an answer whose session has ended: its first attempt was
        // delivered or reported already; the retry is expected noise, not news.
        if (!(message.$try > 1)) this._late(id, port);
        return undefined;
      }
    } else if (message[this._errorKey] !== undefined) {
      this._late(id, port);
      return undefined;
    }
    if (port._isOwnId(id)) {
      this._late(id, port);
      return undefined;
    }
    const turn = message.$turn;
    if (typeof turn === "number" && this._wire) {
      if (port._repeat(id, turn, message.$try !== undefined)) return undefined;
    } else if (port._endedLately(id)) {
      this._late(id, port);
      return undefined;
    }
    if (port._responders >= port.maxResponders) {
      this._overloaded(message, port);
      return undefined;
    }
    const remote = new Session(port, id, true, undefined);
    this._added(port, remote);
    return remote;
  }

  /** The remote has `maxResponders` sessions open here: refuse this one at once, without running anything. */
  private _overloaded(message: Message, port: Port): void {
    const id = message[this.sessionIdName] as number;
    const text = `${port} already has ${port.maxResponders} sessions open by the remote (maxResponders): session ${id} refused`;
    this.report(new SessionError(text), port);
    const answer: Message = {
      [this.sessionIdName]: id,
      [this._errorKey]: { name: "SessionOverloadError", message: text },
    };
    if (this._wire) answer.$re = typeof message.$turn === "number" ? message.$turn : 0;
    port._resend(answer);
  }

  private _late(id: number, port: Port): void {
    port._stats.late++;
    this.report(new SessionInvalidError(`no session ${id} on ${port}: a late or duplicate reply was dropped`), port);
  }

  /**
   * A later turn of a session that has ended here (its handler finished or failed while the turn
   * was on the wire): never run as a new session. The opener is told at once, so its send fails
   * now instead of at its timeout (or never, without one). A `$cancel` is never answered.
   */
  private _strayTurn(id: number, turn: number, port: Port): void {
    port._stats.late++;
    this.report(
      new SessionInvalidError(`no session ${id} on ${port}: turn ${turn} of a session that ended here was refused`),
      port,
    );
    port._resend({ [this.sessionIdName]: id, $re: turn, $cancel: "SessionInvalidError" });
  }

  /** @internal An answer to an earlier turn reached a session that has moved on. */
  _stale(session: Session, re: unknown): void {
    session._port._stats.late++;
    this.report(
      new SessionInvalidError(
        `${session}: a reply to an earlier turn (${String(re)}, now ${session._turn}) was dropped`,
      ),
      session._port,
    );
  }

  private _added(port: Port, session: Session): void {
    port._add(session);
    port._stats.created++;
    // The tick must run (fast enough for sessions); when it (re)started, the clock may have stood
    // still while nothing was live: stamp the first session afresh.
    if (
      ++this._live === 1 &&
      (this._sweeper === undefined || this._tickEvery > this._fastEvery) &&
      this._startSweeper()
    ) {
      session._born = session._active = this._tick;
    }
    if (this._listeners?.["session:create"] !== undefined) this._emit("session:create", session);
  }

  /** @internal */
  _ended(session: Session, reason: unknown): void {
    this._live--;
    if (this._listeners?.["session:end"] !== undefined) this._emit("session:end", session, reason);
  }

  /**
   * Puts `error` on the "error" event (or `console.warn` when nobody listens). For transports and
   * adapters: a frame that cannot be decoded, a dead connection, anything that must not throw.
   */
  report(error: unknown, port?: Port): void {
    const e = asError(error);
    if (this._emit("error", e, port)) return;
    // Nothing is dropped silently: without an "error" listener it still shows up, but a flood
    // (a peer sending garbage) must not become a flood of console lines.
    const t = Date.now();
    if (t - this._warnedAt >= 1000) {
      if (this._unwarned > 0)
        console.warn(`[psession] ${this._unwarned} more errors in the last second (add an "error" listener)`);
      this._warnedAt = t;
      this._unwarned = 0;
      this._warnedNow = 0;
    }
    if (this._warnedNow++ < 10) console.warn(`[psession] ${e.message}`);
    else this._unwarned++;
  }

  private _warnedAt = 0;
  private _warnedNow = 0;
  private _unwarned = 0;

  /** @internal */
  override _onListenerError(error: unknown, event: string): void {
    if (event === "error") {
      console.warn("[psession] an error listener failed:", error);
      return;
    }
    this.report(error, undefined);
  }

  /** @internal The hint of the "no transport attached" error: a server's ports are per connection. */
  _portsHint(_port: Port): string | undefined {
    return describeConnectionPorts(this);
  }

  /** @internal +1 when a send starts waiting without a timeout, -1 when it settles. */
  _holdOpen(delta: number): void {
    this._open += delta;
    if (this._open > 0 && this._keepAlive === undefined) {
      this._keepAlive = setInterval(noop, MAX_SWEEP) as PlatformTimer;
    } else if (this._open === 0 && this._keepAlive !== undefined) {
      clearInterval(this._keepAlive);
      this._keepAlive = undefined;
    }
  }

  /** @internal Reads the clock for a stats or listing call: the coarse clock and every port's liveness. */
  _observe(): number {
    const t = (this._tick = Math.floor(now()));
    for (const port of this._ports.values()) port._sample(t);
    return t;
  }

  /** @internal A port was destroyed: keep its counts in the manager's totals. */
  _retire(port: Port): void {
    port._stats.retireMeter();
    this._retired.merge(port._stats);
    this._destroyedPorts++;
  }

  /** @internal A port's state changed (see Port._announce): "port:state"(port, state, previous). */
  _portState(port: Port, state: PortState, previous: PortState | undefined): void {
    if (state === "attached") this._startSweeper(); // liveness samples while ports are attached
    const list = this._listeners?.["port:state"];
    if (list === undefined) return;
    for (const listener of list.slice()) {
      try {
        const result = listener(port, state, previous);
        if (result !== undefined && typeof (result as PromiseLike<unknown>).then === "function") {
          (result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
            this._onListenerError(error, "port:state"),
          );
        }
      } catch (error) {
        this._onListenerError(error, "port:state");
      }
    }
  }

  /** @internal A port's timings changed: sweep often enough for its sessionMaxLife too. */
  _retime(port: Port): void {
    const every = sweepInterval(port.sessionTimeout, port.sessionMaxLife);
    if (every >= this._sweepEvery) return;
    this._sweepEvery = every;
    this._fastEvery = Math.min(TICK, every);
    if (this._sweeper !== undefined) {
      clearInterval(this._sweeper);
      this._sweeper = undefined;
      this._startSweeper();
    }
  }

  override toString(): string {
    return `SessionManager(${this._ports.size} ports, ${this._live} sessions)`;
  }

  /** @internal `console.log(manager)` in Node prints one line. */
  [inspect](): string {
    return this.toString();
  }

  private *_allSessions(): Generator<Session> {
    for (const port of [...this._ports.values()]) yield* port._sessions.values();
  }

  // One unref'd interval, the tick, runs while any session lives or any port is attached: it reads
  // the coarse clock, samples port liveness, and, every sweep interval, ends idle sessions older
  // than their port's sessionMaxLife. Every second (or every sweep when that is shorter) while
  // sessions live; every second otherwise. Returns true when it (re)started and read the clock.
  private _startSweeper(): boolean {
    const every = this._live > 0 ? this._fastEvery : TICK;
    const running = this._sweeper;
    if (running !== undefined) {
      if (this._tickEvery <= every) return false;
      clearInterval(running); // faster now that sessions live: the clock may be a slow tick old
      this._tick = Math.floor(now());
    } else {
      this._walkedAt = this._tick = Math.floor(now());
    }
    const timer = setInterval(this._sweep, every) as PlatformTimer;
    timer.unref?.();
    this._sweeper = timer;
    this._tickEvery = every;
    return true;
  }

  private _stopSweeper(): void {
    clearInterval(this._sweeper);
    this._sweeper = undefined;
  }

  private readonly _sweep = (): void => {
    const t = (this._tick = Math.floor(now()));
    let attached = false;
    for (const port of this._ports.values()) {
      port._sample(t);
      if (port._sender !== undefined) attached = true;
    }
    if (this._live === 0) {
      if (!attached || this._tickEvery < TICK) this._stopSweeper();
      if (attached && this._sweeper === undefined) this._startSweeper(); // at the slower pace
      return;
    }
    if (t - this._walkedAt < this._sweepEvery - this._tickEvery / 2) return;
    this._walkedAt = t;
    // No clock on the hot path: activity stamps a session with the coarse clock (`_active`), so an
    // idle session ends between maxLife and maxLife + one sweep (up to one tick early).
    for (const port of [...this._ports.values()]) {
      const maxLife = port.sessionMaxLife;
      if (!(maxLife > 0) || maxLife === Infinity) continue;
      port._sessions.compact();
      for (const session of port._sessions.values()) {
        if (session.pending) session._active = t;
        else if (t - session._active > maxLife) {
          session._end(new SessionTimeoutError(`${session} expired: idle longer than ${maxLife} ms`), false, EXPIRED);
        }
      }
    }
  };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new SessionError(safeString(value));
}

/** String(value) that cannot throw (a null-prototype object has no toString). */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function noop(): void {}

/**
 * Idle sessions are checked every min(sessionTimeout, sessionMaxLife) / 2 (README), 10 ms to 30 s.
 * 0 and Infinity mean "none" and do not count: `sessionTimeout: 0` must not sweep every 10 ms.
 */
function sweepInterval(timeout: number, maxLife: number): number {
  let shortest = MAX_SWEEP * 2;
  if (timeout > 0 && timeout < shortest) shortest = timeout;
  if (maxLife > 0 && maxLife < shortest) shortest = maxLife;
  return Math.round(Math.min(MAX_SWEEP, Math.max(10, shortest / 2)));
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return `of type ${Array.isArray(value) ? "array" : typeof value}`;
}
