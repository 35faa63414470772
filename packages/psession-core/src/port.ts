import { now } from "./clock.js";
import { SessionAbortError, SessionCancelError, SessionError, SessionSendError, toSendError } from "./errors.js";
import type { SessionManager } from "./manager.js";
import type { Tomb } from "./replay-cache.js";
import type { Session } from "./session.js";
import { SidTable } from "./sid-table.js";
import { Counters, type PortState, type PortStats, type StatsOptions, TIMED_PER_TICK } from "./stats.js";
import type { Transport } from "./transport.js";
import type { Message, PortOptions, Role, SendOptions, Sender, SessionOptions, TransferExtras } from "./types.js";
// Wire fields ($re, …; docs/protocol.md) are plain property accesses.

/** Role-less ports remember this many of their own ended sids, to drop late replies from peers that only echo the sid. */
const ENDED_LOCAL_KEPT = 1024;
const DEFAULT_MAX_RESPONDERS = 1024;
const inspect: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

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
  /** Most sessions the remote may have open here at once; see PortOptions.maxResponders. */
  maxResponders: number;
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
  /** @internal The latest `$turn` this side numbered a message with (per port, so never reused by a later session). */
  _turns = 0;
  /** @internal Ended responder sessions by sid (see replay-cache.ts). */
  _tombs: Map<number, Tomb> | undefined = undefined;
  /** @internal The transport may deliver a message twice (MQTT QoS 1): remember every ended responder session's turn. */
  _duplicates = false;
  /** @internal The transport wants each attempt's timeout (see Transport.timeouts). */
  _timeouts = false;
  /** @internal Back-pressure: the peer is not reading; local sends fail with BACKPRESSURE until it drains. */
  _blocked = false;
  /** @internal How much is queued toward the peer, when the transport can tell (for messages). */
  _queued: () => number = () => 0;
  /** @internal Counted as traffic passes; read by stats(). */
  readonly _stats = new Counters();
  /** @internal The attached transport, read only for `lastSeen` and byte counts. */
  _transport: Transport | undefined = undefined;
  /** @internal The manager's coarse clock when the port was made. */
  readonly _born: number;
  /** The state last announced on "port:state" (undefined until the port is in the manager). */
  private _announced: PortState | undefined = undefined;
  /** Messages received at the last liveness sample, and the coarse time that sample saw them change (-1: never). */
  private _seenCount = 0;
  private _seenAt = -1;
  /** Previous transports still delivering replies after a re-attach (see attach.ts). */
  private _draining: (() => void)[] | undefined = undefined;
  /** Role-less only: own sids that ended lately (see ENDED_LOCAL_KEPT). */
  private _endedLocal: Set<number> | undefined = undefined;
  private _first = 1;
  private _step = 1;
  private _capacity = 0;
  private _cursor = 1;
  /** Until the cursor first wraps, every id at or past it is free (with a role, remote ids never share our parity). */
  private _fresh = true;
  private _local = 0;
  private _oldest: Session | undefined = undefined;
  private _newest: Session | undefined = undefined;

  /** @internal */
  constructor(manager: SessionManager, name: string, options: PortOptions) {
    this.manager = manager;
    this.name = name;
    this.sessionTimeout = manager.sessionTimeout;
    this.sessionMaxLife = manager.sessionMaxLife;
    this.maxSessionCount = manager.maxSessionCount;
    this.maxResponders = DEFAULT_MAX_RESPONDERS;
    this.retryCount = manager.retryCount;
    this.retryInterval = manager.retryInterval;
    this.onSessionOverflow = manager.onSessionOverflow;
    this.role = undefined;
    this._sender = undefined;
    this._born = Math.floor(now());
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
    if (options.maxResponders !== undefined) this.maxResponders = Math.max(0, options.maxResponders);
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
    this.manager._retime(this);
    if (this._announced !== undefined) this._announce();
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

  /**
   * `"attached"` (a transport or sender is bound), `"detached"` (none: kept for a reconnect, or
   * not bound yet) or `"destroyed"`. Changes are announced on the manager's "port:state" event.
   */
  get state(): PortState {
    return this._destroyed ? "destroyed" : this._sender !== undefined ? "attached" : "detached";
  }

  /**
   * When the peer last showed life, in ms since the epoch: the last message received on this port,
   * or the transport's own `lastSeen` (heartbeat answers) when later. Undefined if nothing came yet.
   * Precise to the manager's clock tick (1 s, or the idle-sweep interval when shorter): no clock is
   * read per message.
   */
  get lastSeen(): number | undefined {
    this.manager._observe();
    return this._lastSeen(this.manager._epoch);
  }

  /**
   * This port's statistics: sessions by outcome, requests, timeouts, retries, duplicates, messages,
   * bytes (when the transport counts them) and round-trip times. A plain object, made on each call.
   */
  stats(options?: StatsOptions): PortStats {
    this.manager._observe();
    const counts = this._stats.snapshot(this._sessions.size, options);
    return { port: this.name, state: this.state, lastSeen: this._lastSeen(this.manager._epoch), ...counts };
  }

  /** Creates a session on this port. */
  createSession(options?: SessionOptions): Session {
    return this.manager._create(this, options);
  }

  /** One-shot request: a `once` session that sends `message` and ends with its reply. */
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  request<Reply = any>(message: Message, options?: SendOptions): Promise<Reply> {
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
        : new SessionAbortError(
            `port "${this.name}" was destroyed`,
            reason === undefined ? undefined : { cause: reason },
          );
    // Still connected (a local destroy): the remote is told to stop working on our pending turns.
    for (const session of this._sessions.values()) session._end(error, session.pending);
    this._unbind();
    if (this._draining !== undefined) for (const detach of this._draining.splice(0)) detach();
    this._sender = undefined;
    this._tombs = undefined;
    this._blocked = false;
    if (this !== this.manager.default) {
      this._destroyed = true;
      this.manager._ports.delete(this.name);
      this.manager._retire(this);
    }
    this._announce();
  }

  /** @deprecated Misspelt alias of `destroy()` kept for the Chinese README. */
  destory(reason?: unknown): void {
    this.destroy(reason);
  }

  // ---- internals ---------------------------------------------------------------------------

  /**
   * @internal A transport of this port went away. `via` is its sender: when it is no longer the
   * current one (the port was re-attached meanwhile) only the attempts that went through it fail.
   */
  _transportClosed(reason: unknown, via: Sender): void {
    const detail = reason instanceof Error && reason.message !== "" ? ` (${reason.message})` : "";
    const error = new SessionAbortError(
      `port "${this.name}": connection closed${detail}`,
      reason === undefined ? undefined : { cause: reason },
    );
    if (via !== this._sender) {
      for (const session of this._sessions.values()) session._connectionLost(error, via);
      return;
    }
    if (!this._reconnect) {
      this._sender = undefined; // gone: no cancel notices can go out on it
      this.destroy(error);
      return;
    }
    // Kept for a re-attach: sends with retries left retry (on the new transport if there is one
    // by then), the others fail now rather than at their timeout.
    this._unbind();
    this._sender = undefined;
    this._blocked = false;
    this._announce();
    for (const session of this._sessions.values()) session._connectionLost(error, undefined);
  }

  /** Removes the current transport's listeners. */
  private _unbind(): void {
    const detach = this._detach;
    this._detach = undefined;
    if (detach !== undefined) detach();
  }

  /** @internal A new transport takes over: the current one keeps delivering until it closes. */
  _handOver(): void {
    const detach = this._detach;
    this._detach = undefined;
    if (detach !== undefined) (this._draining ??= []).push(detach);
  }

  /** @internal A transport's listeners were removed (it closed, or the port let it go). */
  _released(detach: () => void): void {
    if (this._detach === detach) this._detach = undefined;
    const draining = this._draining;
    if (draining === undefined) return;
    const i = draining.indexOf(detach);
    if (i >= 0) draining.splice(i, 1);
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
    // A "session:end" listener of a recycled session may open a session itself and take the freed
    // id: look again rather than hand out an id twice.
    for (let round = 0; round < 8; round++) {
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
      const freed = this._recycle();
      if (!this._sessions.has(freed)) return freed;
    }
    throw new SessionError(`port "${this.name}" has no session id to allocate: sessions keep taking the recycled ones`);
  }

  /** All ids in use: end the session onSessionOverflow picks (default the oldest), return its id. */
  private _recycle(): number {
    let victim: Session | undefined;
    const chosen = this.onSessionOverflow?.(this);
    if (typeof chosen === "number") {
      const s = this._sessions.get(chosen);
      if (s !== undefined && !s.remote) victim = s;
    }
    victim ??= this._oldest;
    if (victim === undefined) throw new SessionError(`port "${this.name}" has no session id to allocate`);
    // The remote is told, and the new session's turns are numbered past the victim's, so the
    // victim's late reply (its `$re`) can never resolve the newcomer.
    victim._end(new SessionCancelError(`${victim} was recycled: all session ids were in use`), true);
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
    if (session.remote) {
      // Remembered so a repeat of its last turn is recognised, not run again (replay-cache.ts).
      // Only where a repeat can come: a retryable turn, an opener answering this side's re-sent
      // message by repeating its turn, or a channel that may deliver twice.
      if (session._turn > 0 && (session._retryable || session._retriedOut || this._duplicates) && this.manager._wire) {
        const out = session._lastOut;
        const answered = out !== undefined && out.$re === session._turn;
        this.manager._replays.remember(
          this,
          session.id,
          session._turn,
          answered && session._retryable ? out : undefined,
        );
      }
    } else if (this._step === 1) {
      const ended = (this._endedLocal ??= new Set());
      ended.delete(session.id);
      ended.add(session.id);
      if (ended.size > ENDED_LOCAL_KEPT) ended.delete(ended.values().next().value!);
    }
  }

  /** @internal Live sessions the remote opened here. */
  get _responders(): number {
    return this._sessions.size - this._local;
  }

  /** @internal Is `id` in the half of the sid space this side allocates from? */
  _isOwnId(id: number): boolean {
    return this._step === 2 && (id & 1) === (this._first & 1);
  }

  /** @internal A role-less port's own sid that ended lately: a message for it without `$turn` is a late reply. */
  _endedLately(id: number): boolean {
    return this._endedLocal?.has(id) === true;
  }

  /**
   * @internal A turn for a sid whose responder session has ended: true when it is a repeat of the
   * last turn that session saw (answered again when it was retried and its answer is kept).
   */
  _repeat(id: number, turn: number, retried: boolean): boolean {
    const tomb = this._tombs?.get(id);
    if (tomb === undefined || turn > tomb.turn) return false;
    this._stats.duplicates++;
    if (retried && turn === tomb.turn && tomb.out !== undefined) this._resend(tomb.out);
    return true;
  }

  /**
   * @internal Fire-and-forget send. Throws when it cannot be sent now; a later failure (a rejected
   * promise) is reported on the error event, or handed to the caller when it asks for the promise.
   */
  _post(out: Message, keepPromise?: false, extras?: TransferExtras): void;
  _post(out: Message, keepPromise: true, extras?: TransferExtras): Promise<void> | undefined;
  _post(out: Message, keepPromise = false, extras?: TransferExtras): Promise<void> | undefined {
    const sender = this._sender;
    if (sender === undefined) throw this._noTransportError();
    let result: void | Promise<void>;
    try {
      result = extras === undefined ? sender(out) : sender(out, extras);
      this._stats.sent++;
    } catch (error) {
      throw toSendError(error, this.name);
    }
    if (result === undefined || typeof result.then !== "function") return undefined;
    if (keepPromise) return result;
    result.then(undefined, (error: unknown) => this.manager.report(toSendError(error, this.name), this));
    return undefined;
  }

  /** @internal A send that must not throw: failures are reported. */
  _resend(out: Message): void {
    try {
      this._post(out);
    } catch (error) {
      this.manager.report(error, this);
    }
  }

  /** @internal */
  _noTransportError(): SessionSendError {
    const hint = this.manager._portsHint(this);
    return new SessionSendError(
      `port "${this.name}" has no transport attached${hint === undefined ? "" : `; ${hint}`}`,
    );
  }

  /**
   * @internal Emits "port:state" when the state differs from the one last announced. Called where
   * the state can change (made, configured, transport closed, destroyed), never per message.
   */
  _announce(): void {
    const state = this.state;
    const previous = this._announced;
    if (state === previous) return;
    this._announced = state;
    this.manager._portState(this, state, previous);
  }

  /** @internal Each tick: a fresh round-trip budget, and a liveness sample at coarse time `t` (did messages arrive since the last one?). */
  _sample(t: number): void {
    const stats = this._stats;
    stats.budget = TIMED_PER_TICK;
    const received = stats.received;
    if (received === this._seenCount) return;
    this._seenCount = received;
    this._seenAt = t;
  }

  /** @internal `lastSeen`, `offset` turning the monotonic clock into epoch ms (manager._epoch). */
  _lastSeen(offset: number): number | undefined {
    const own = this._seenAt < 0 ? undefined : Math.round(this._seenAt + offset);
    const theirs = this._transport?.lastSeen;
    if (typeof theirs !== "number" || !(theirs > 0)) return own;
    return own === undefined || theirs > own ? theirs : own;
  }

  toString(): string {
    return `port "${this.name}"`;
  }

  /** A short summary for logs: `console.log(port)` and `JSON.stringify(port)`. */
  toJSON(): { name: string; role: Role | undefined; sessions: number; attached: boolean; destroyed: boolean } {
    return {
      name: this.name,
      role: this.role,
      sessions: this._sessions.size,
      attached: this.attached,
      destroyed: this._destroyed,
    };
  }

  /** @internal `console.log(port)` in Node prints one line. */
  [inspect](): string {
    return `Port ${JSON.stringify(this.toJSON())}`;
  }
}
