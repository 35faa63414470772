// Listings for operators: `manager.sessions(filter)` and `manager.listPorts(filter)`. They walk the
// ports and sessions when called and hand out plain snapshots; nothing is indexed or kept for
// them, so they cost the hot path nothing.
import { SessionInvalidError } from "./errors.js";
import type { Port } from "./port.js";
import type { PortState } from "./stats.js";
import type { Role } from "./types.js";

/**
 * What a live session is doing: `idle` (no send pending), `waiting` (a send waits for its reply),
 * `retrying` (a send waits to be sent again), `handling` (the remote opened it and this side is
 * working on the answer).
 */
export type SessionState = "idle" | "waiting" | "retrying" | "handling";

/** One live session, as `manager.sessions()` lists it. Times are ms since the epoch. */
export interface SessionSnapshot {
  id: number;
  port: string;
  /** True for a session the remote opened. */
  remote: boolean;
  state: SessionState;
  /** Messages the opener sent in this session so far (its turns). */
  turns: number;
  createdAt: number;
  /** The later of the last message from the remote and the start of the last send. */
  lastActivity: number;
}

export interface SessionFilter {
  /** Only this port's sessions (a name or the Port). */
  port?: string | Port;
  /** true: only sessions the remote opened; false: only this side's. */
  remote?: boolean;
  /** true: only sessions with a send pending; false: only those without. */
  pending?: boolean;
  /** Only sessions with no send pending and no activity for at least this many ms. */
  idleFor?: number;
  /** Page size (default 100; Infinity for all). */
  limit?: number;
  /** Matches to skip (default 0). */
  offset?: number;
}

/** One port, as `manager.listPorts()` lists it. */
export interface PortSnapshot {
  name: string;
  state: PortState;
  role: Role | undefined;
  /** Live sessions. */
  sessions: number;
  /** Sessions with a send pending. */
  pending: number;
  /** ms since the epoch (see `port.lastSeen`); undefined if nothing came yet. */
  lastSeen: number | undefined;
}

export interface PortFilter {
  /** Only ports in this state (or these states). Destroyed ports are no longer listed. */
  state?: PortState | readonly PortState[];
  /** Only ports that received nothing (no message, no heartbeat answer) for at least this many ms, since they were made if never. */
  silentFor?: number;
  limit?: number;
  offset?: number;
}

/** One page of a listing: `total` matches, `items` from `offset`, at most `limit` of them. */
export interface Page<T> {
  total: number;
  items: T[];
}

/** The clock a listing reads once: `t` the coarse monotonic ms, `offset` to turn it into epoch ms. */
interface Now {
  t: number;
  offset: number;
}

/** @internal */
export function listSessions(ports: Iterable<Port>, filter: SessionFilter, clock: Now): Page<SessionSnapshot> {
  const { from, to } = pageOf(filter);
  const { remote, pending, idleFor } = filter;
  if (idleFor !== undefined && !(idleFor >= 0))
    throw new SessionInvalidError(`idleFor must be a number of ms ≥ 0, not ${String(idleFor)}`);
  const items: SessionSnapshot[] = [];
  let total = 0;
  for (const port of ports) {
    for (const session of port._sessions.values()) {
      if (remote !== undefined && session.remote !== remote) continue;
      const busy = session.pending;
      if (pending !== undefined && busy !== pending) continue;
      if (idleFor !== undefined && (busy || clock.t - session._lastActive() < idleFor)) continue;
      if (total >= from && total < to) {
        items.push({
          id: session.id,
          port: port.name,
          remote: session.remote,
          state: session._doing(),
          turns: session._turns,
          createdAt: Math.round(session._born + clock.offset),
          lastActivity: Math.round(session._lastActive() + clock.offset),
        });
      }
      total++;
    }
  }
  return { total, items };
}

/** @internal */
export function listPorts(ports: Iterable<Port>, filter: PortFilter, clock: Now): Page<PortSnapshot> {
  const { from, to } = pageOf(filter);
  const { state, silentFor } = filter;
  if (silentFor !== undefined && !(silentFor >= 0))
    throw new SessionInvalidError(`silentFor must be a number of ms ≥ 0, not ${String(silentFor)}`);
  const states = state === undefined ? undefined : typeof state === "string" ? [state] : state;
  const epochNow = clock.t + clock.offset;
  const items: PortSnapshot[] = [];
  let total = 0;
  for (const port of ports) {
    const current = port.state;
    if (states !== undefined && !states.includes(current)) continue;
    const lastSeen = port._lastSeen(clock.offset);
    if (silentFor !== undefined && epochNow - (lastSeen ?? port._born + clock.offset) < silentFor) continue;
    if (total >= from && total < to) {
      let pending = 0;
      for (const session of port._sessions.values()) if (session.pending) pending++;
      items.push({
        name: port.name,
        state: current,
        role: port.role,
        sessions: port._sessions.size,
        pending,
        lastSeen: lastSeen === undefined ? undefined : Math.round(lastSeen),
      });
    }
    total++;
  }
  return { total, items };
}

function pageOf(filter: { limit?: number; offset?: number }): { from: number; to: number } {
  const limit = filter.limit ?? 100;
  const offset = filter.offset ?? 0;
  if (!(limit >= 0)) throw new SessionInvalidError(`limit must be a number ≥ 0, not ${String(limit)}`);
  if (!(offset >= 0) || offset === Infinity)
    throw new SessionInvalidError(`offset must be a number ≥ 0, not ${String(offset)}`);
  return { from: Math.floor(offset), to: Math.floor(offset) + limit };
}
