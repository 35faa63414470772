// A BroadcastChannel reaches every listener of its name, so psession addresses its messages: each
// participant has a name, every psession message carries `$from` and `$to`, a participant takes
// only what is addressed to it, and every other participant is its own port (its own sid space,
// roles by name order). A session so pairs one initiator with one responder and never misroutes.
import { attachConnections, SessionInvalidError, type ConnectionPorts, type Port, type SessionManager } from "psession";
import { coreOptions, transportFor } from "./attach-endpoint.js";
import type { WireTransport } from "./transport.js";
import type { BroadcastAttachOptions, BroadcastChannelLike, BroadcastPeer } from "./types.js";
import { LABEL, type Wire, type WireSink } from "./wire.js";

export const FROM = "$from";
export const TO = "$to";

/** What `attach(manager, broadcastChannel)` returns. */
export interface BroadcastHandle extends ConnectionPorts<BroadcastPeer> {
  /** This participant's name. */
  readonly name: string;
  /** The port of participant `name`, made on first use (so is `manager.createSession(name)`). */
  peer(name: string): Port;
}

interface Entry {
  readonly peer: BroadcastPeer;
  sink: WireSink | undefined;
  transport: WireTransport | undefined;
}

export function attachBroadcast(
  manager: SessionManager,
  channel: BroadcastChannelLike,
  options: BroadcastAttachOptions,
): BroadcastHandle {
  const { portName, onConnection, name: given, ...rest } = options;
  const me = given ?? randomName();
  if (typeof me !== "string" || me === "")
    throw new TypeError(`${LABEL}: a BroadcastChannel participant's name must be a non-empty string`);
  const entries = new Map<string, Entry>();
  let accept: ((peer: BroadcastPeer, name: string) => void) | undefined;

  /** The live entry of participant `name`, announced as a new connection when it has none. */
  const entryOf = (name: string): Entry | undefined => {
    const known = entries.get(name);
    if (known !== undefined && known.sink !== undefined) return known;
    const entry: Entry = { peer: { name }, sink: undefined, transport: undefined };
    entries.set(name, entry);
    accept?.(entry.peer, name);
    return entry.sink === undefined ? undefined : entry;
  };

  const wireOf = (entry: Entry): Wire => ({
    kind: "BroadcastChannel peer",
    channel: entry.peer,
    // Roles without asking: the smaller name allocates odd ids.
    role: me < entry.peer.name ? "client" : "server",
    post(value, transfer) {
      if (transfer !== undefined) throw new TypeError("a BroadcastChannel cannot transfer; post a copy");
      channel.postMessage(Object.assign({}, value, { [FROM]: me, [TO]: entry.peer.name }));
    },
    open(sink) {
      entry.sink = sink;
      return () => {
        if (entry.sink === sink) entry.sink = undefined;
      };
    },
  });

  const onMessage = (event: { data: unknown }) => {
    try {
      const data = event.data;
      if (typeof data !== "object" || data === null) return;
      const record = data as Record<string, unknown>;
      if (record[TO] !== me) return; // for someone else, or not psession's
      const from = record[FROM];
      if (typeof from !== "string" || from === "" || from === me) {
        const why =
          from === me
            ? `carries our own name ${JSON.stringify(me)} (two participants share it?)`
            : "has no valid $from";
        manager.report(new SessionInvalidError(`a BroadcastChannel message for us ${why}: dropped`), undefined);
        return;
      }
      entryOf(from)?.sink?.data(data);
    } catch (error) {
      manager.report(error, undefined);
    }
  };

  const connections = attachConnections<BroadcastPeer, string, WireTransport>(
    manager,
    {
      label: LABEL,
      listen(announce) {
        accept = announce;
        channel.addEventListener("message", onMessage);
        return () => {
          accept = undefined;
          channel.removeEventListener("message", onMessage);
        };
      },
      defaultName: (peer) => peer.name,
      transport(peer) {
        const entry = entries.get(peer.name)!;
        const transport = transportFor(manager, wireOf(entry), rest, () => connections.portOf(peer));
        entry.transport = transport;
        return transport;
      },
      end(peer) {
        entries.get(peer.name)?.transport?.close();
      },
    },
    { ...coreOptions(rest), portName, onConnection },
  );

  const removeResolver = manager.addPortResolver((name) => {
    if (name === me) return undefined;
    const entry = entryOf(name);
    return entry === undefined ? undefined : connections.portOf(entry.peer);
  });

  return {
    name: me,
    ports: connections.ports,
    portOf: connections.portOf,
    peer(name) {
      if (typeof name !== "string" || name === "" || name === me) {
        throw new TypeError(`${LABEL}: peer() needs another participant's name`);
      }
      const entry = entryOf(name);
      const port = entry === undefined ? undefined : connections.portOf(entry.peer);
      if (port === undefined)
        throw new SessionInvalidError(`no port could be made for participant ${JSON.stringify(name)}`);
      return port;
    },
    close(closeOptions) {
      removeResolver();
      // Every participant we talk to is told, so its pending sessions with us end at once.
      for (const entry of [...entries.values()]) if (entry.sink !== undefined) entry.transport?.close();
      entries.clear();
      connections.close(closeOptions);
    },
  };
}

function randomName(): string {
  const c = (globalThis as { crypto?: { randomUUID?(): string } }).crypto;
  return c?.randomUUID?.() ?? `p-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
}
