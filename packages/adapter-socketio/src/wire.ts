// Byte counts of a Socket.IO connection, where Node can tell them: the TCP socket under the
// WebSocket transport of engine.io (the `ws` package's `_socket`). Long-polling (HTTP requests
// that come and go), browsers and other transports cannot tell: the counts are then undefined.

/** The byte counters of a Node TCP socket. */
export interface WireCounters {
  readonly bytesWritten?: number;
  readonly bytesRead?: number;
}

type Maybe<T> = T | null | undefined;
interface EngineTransportLike {
  readonly name?: string;
  /** engine.io (server): the `ws` WebSocket. */
  readonly socket?: Maybe<{ readonly _socket?: Maybe<WireCounters> }>;
  /** engine.io-client: the WebSocket (`ws` in Node), null once closed. */
  readonly ws?: Maybe<{ readonly _socket?: Maybe<WireCounters> }>;
}

/** True in Node (and runtimes that say they are compatible): elsewhere a socket has no counters. */
export const NODE =
  typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === "string";

/** The TCP socket under a server-side Socket.IO socket, while its engine.io transport is a WebSocket. */
export function serverWire(socket: object): WireCounters | undefined {
  const transport = (socket as { conn?: Maybe<{ transport?: Maybe<EngineTransportLike> }> }).conn?.transport;
  if (transport?.name !== "websocket") return undefined;
  return transport.socket?._socket ?? undefined;
}

/** The TCP socket under a `socket.io-client` socket, while its engine.io transport is a WebSocket. */
export function clientWire(socket: object): WireCounters | undefined {
  const transport = (socket as { io?: Maybe<{ engine?: Maybe<{ transport?: Maybe<EngineTransportLike> }> }> }).io
    ?.engine?.transport;
  if (transport?.name !== "websocket") return undefined;
  return transport.ws?._socket ?? undefined;
}

/**
 * What one transport counts: the bytes of the TCP socket `find` returns, from when the transport
 * was made (or from the WebSocket's opening, when it opened later: after an upgrade from
 * long-polling). The first socket found is kept, so the counts stay once the connection is gone.
 */
export class WireMeter {
  private tcp: WireCounters | undefined = undefined;
  private sent0 = 0;
  private read0 = 0;

  constructor(private readonly find: () => WireCounters | undefined) {
    this.probe(true);
  }

  /** Looks for the socket until found; `made`: what it counted so far is not this transport's. */
  probe(made = false): WireCounters | undefined {
    if (this.tcp !== undefined) return this.tcp;
    const tcp = this.find();
    if (tcp === undefined) return undefined;
    this.tcp = tcp;
    if (made) {
      this.sent0 = tcp.bytesWritten ?? 0;
      this.read0 = tcp.bytesRead ?? 0;
    }
    return tcp;
  }

  get sent(): number | undefined {
    const n = this.probe()?.bytesWritten;
    return typeof n === "number" ? n - this.sent0 : undefined;
  }

  get received(): number | undefined {
    const n = this.probe()?.bytesRead;
    return typeof n === "number" ? n - this.read0 : undefined;
  }
}
