// What the adapter needs of Socket.IO's objects, written structurally so that the published types
// depend on neither `socket.io` nor `socket.io-client` (a browser app installs only the client).
// Methods take `Any`: Socket.IO's typed event maps must fit whatever events the app declares.

// biome-ignore lint/suspicious/noExplicitAny: any typed Socket.IO event map has to fit these signatures.
type Any = any;

/** A `socket.io-client` `Socket`. */
export interface ClientSocketLike {
  readonly connected: boolean;
  /** True while the socket connects or reconnects by itself (Socket.IO's `active`). */
  readonly active: boolean;
  readonly id?: string | undefined;
  emit(event: Any, ...args: Any[]): unknown;
  on(event: Any, listener: Any): unknown;
  off(event: Any, listener?: Any): unknown;
  disconnect(): unknown;
}

/** A server-side `socket.io` `Socket`. */
export interface ServerSocketLike {
  readonly id: string;
  readonly connected: boolean;
  readonly handshake: { readonly auth: { readonly [key: string]: Any } };
  emit(event: Any, ...args: Any[]): unknown;
  on(event: Any, listener: Any): unknown;
  off(event: Any, listener?: Any): unknown;
  join(room: Any): unknown;
  disconnect(close?: boolean): unknown;
}

/** A `socket.io` `Namespace` (`io.of("/chat")`); `S` is its socket type. */
export interface NamespaceLike<S = ServerSocketLike> {
  readonly name: string;
  readonly sockets: ReadonlyMap<string, S>;
  readonly adapter: object;
  to(room: Any): { emit(event: Any, ...args: Any[]): unknown };
  on(event: Any, listener: Any): unknown;
  off(event: Any, listener?: Any): unknown;
  serverSideEmit(event: Any, ...args: Any[]): unknown;
}

/** A `socket.io` `Server`: its main namespace ("/") is the one attached. */
export interface ServerLike<S = ServerSocketLike> {
  of(name: Any): NamespaceLike<S>;
  readonly sockets: NamespaceLike<S>;
}

/** A `socket.io-client` `Socket`. */
export interface ClientSocketLike {
  readonly connected: boolean;
  /** True while the socket connects or reconnects by itself (Socket.IO's `active`). */
  readonly active: boolean;
  readonly id?: string | undefined;
  emit(event: Any, ...args: Any[]): unknown;
  on(event: Any, listener: Any): unknown;
  off(event: Any, listener?: Any): unknown;
  disconnect(): unknown;
}

/** A server-side `socket.io` `Socket`. */
export interface ServerSocketLike {
  readonly id: string;
  readonly connected: boolean;
  readonly handshake: { readonly auth: { readonly [key: string]: Any } };
  emit(event: Any, ...args: Any[]): unknown;
  on(event: Any, listener: Any): unknown;
  off(event: Any, listener?: Any): unknown;
  join(room: Any): unknown;
  disconnect(close?: boolean): unknown;
}

/** A `socket.io` `Namespace` (`io.of("/chat")`); `S` is its socket type. */
export interface NamespaceLike<S = ServerSocketLike> {
  readonly name: string;
  readonly sockets: ReadonlyMap<string, S>;
  readonly adapter: object;
  to(room: Any): { emit(event: Any, ...args: Any[]): unknown };
  on(event: Any, listener: Any): unknown;
  off(event: Any, listener?: Any): unknown;
  serverSideEmit(event: Any, ...args: Any[]): unknown;
}

/** A `socket.io` `Server`: its main namespace ("/") is the one attached. */
export interface ServerLike<S = ServerSocketLike> {
  of(name: Any): NamespaceLike<S>;
  readonly sockets: NamespaceLike<S>;
}
