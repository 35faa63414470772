// The shapes this package accepts, written structurally so the published types need neither the DOM
// library nor @types/node: a browser Worker, a worker_threads Worker and Comlink's Endpoint all fit.
import type { ChannelOptions, ConnectionPortsOptions, Port, Role } from "psession";

// biome-ignore lint/suspicious/noExplicitAny: postMessage takes any structured-cloneable value.
type Any = any;

/** Comlink's `Endpoint`: what a browser Worker, a MessagePort, `self` in a worker and most wrappers are. */
export interface Endpoint {
  postMessage(message: Any, transfer?: Any): void;
  addEventListener(type: string, listener: Any, options?: Any): void;
  removeEventListener(type: string, listener: Any, options?: Any): void;
  start?(): void;
}

/** A Node `worker_threads` MessagePort (`parentPort` too): an EventEmitter-style endpoint. */
export interface NodeMessagePortLike {
  postMessage(value: Any, transferList?: Any): void;
  on(event: string, listener: (...args: Any[]) => void): unknown;
  off(event: string, listener: (...args: Any[]) => void): unknown;
  start?(): void;
  close?(): void;
}

/** A Node `worker_threads` Worker. */
export interface NodeWorkerLike extends NodeMessagePortLike {
  terminate(): Promise<number>;
  readonly threadId: number;
}

/** A browser `Worker`. */
export interface BrowserWorkerLike extends Endpoint {
  terminate(): void;
}

/** A browser `SharedWorker` (the page's side: its `port` is used). */
export interface SharedWorkerLike {
  readonly port: Endpoint;
  addEventListener(type: string, listener: Any, options?: Any): void;
  removeEventListener(type: string, listener: Any, options?: Any): void;
}

/** A `MessageChannel`: the side that created it passes it whole and keeps `port1` (role "client"). */
export interface MessageChannelLike {
  readonly port1: Endpoint | NodeMessagePortLike;
  readonly port2: Endpoint | NodeMessagePortLike;
}

/** A window or frame: `iframe.contentWindow`, `window.parent`, `window.opener`, a popup. */
export interface WindowLike {
  postMessage(message: Any, targetOrigin: string, transfer?: Any): void;
  readonly closed: boolean;
  readonly window: unknown;
}

/** A `SharedWorkerGlobalScope` (`self` inside a SharedWorker): every page that connects gets its own port. */
export interface SharedWorkerScopeLike {
  onconnect: Any;
  addEventListener(type: string, listener: Any, options?: Any): void;
  removeEventListener(type: string, listener: Any, options?: Any): void;
}

/** A `BroadcastChannel` (browser or Node). */
export interface BroadcastChannelLike {
  readonly name: string;
  postMessage(message: Any): void;
  addEventListener(type: string, listener: Any, options?: Any): void;
  removeEventListener(type: string, listener: Any, options?: Any): void;
  close(): void;
  /** Tell `self` in a worker and a window (which also have a name, close and postMessage) from a BroadcastChannel. */
  readonly importScripts?: undefined;
  readonly onconnect?: undefined;
  readonly window?: undefined;
}

/** Inbound origins a window endpoint accepts: exact origins, patterns, or "*". */
export type OriginList = readonly (string | RegExp)[];

/** Options of `attach(manager, endpoint)`: the core's (`port`, `role`, timeouts, `reconnect`), plus the channel's. */
export interface WorkerAttachOptions extends Omit<ChannelOptions, "serializer" | "maxFrameBytes"> {
  /**
   * Windows and frames: the origin messages are posted to (`postMessage(message, targetOrigin)`).
   * Required for a window: psession never posts to "any origin" unless told `"*"`.
   */
  targetOrigin?: string;
  /**
   * Origins inbound messages may come from (`event.origin`). Default for a window: `[targetOrigin]`
   * (required when `targetOrigin` is `"*"`). Given for any other endpoint, its events are checked too.
   * A message from another origin is reported on the manager's "error" event and never delivered.
   */
  allowedOrigins?: OriginList;
  /**
   * A browser Worker's `error` event (an uncaught error in the worker, or its script failing to load)
   * ends the port: pending sessions reject with SessionAbortError at once. Default true; false
   * reports the error and keeps the port.
   */
  closeOnError?: boolean;
  /** Windows: the window that receives the frame's messages (default `globalThis`). */
  context?: Endpoint;
  /** Windows: how often (ms) to look whether the frame or popup is gone (`closed`). Default 250; 0: never. */
  closedPollInterval?: number;
}

/** What `attach()` returns for one endpoint. */
export interface EndpointHandle {
  /** The port psession bound to this endpoint. */
  readonly port: Port;
  /** The role the port took ("client" for what you created, "server" for what you were handed). */
  readonly role: Role | undefined;
  /**
   * psession lets go of the endpoint: the port is destroyed (pending sessions reject with
   * SessionAbortError), its listeners are removed, and the peer is told, so that its pending
   * sessions end at once too. The endpoint stays open for the application (and Comlink). Idempotent.
   */
  close(): void;
}

/** What `attach()` returns for a Worker. */
export interface WorkerHandle extends EndpointHandle {
  /** Terminates the worker; pending sessions reject with SessionAbortError at once. */
  terminate(): Promise<void>;
}

/** Options of `attach(manager, self)` inside a SharedWorker: every connecting page gets its own port. */
export interface SharedWorkerAttachOptions
  extends Omit<WorkerAttachOptions, "port" | "targetOrigin" | "context" | "closedPollInterval">,
    Pick<ConnectionPortsOptions<Endpoint, number>, "portName" | "onConnection"> {}

/** Options of `attach(manager, broadcastChannel)`. */
export interface BroadcastAttachOptions
  extends Omit<
      WorkerAttachOptions,
      "port" | "role" | "targetOrigin" | "context" | "closedPollInterval" | "closeOnError"
    >,
    Pick<ConnectionPortsOptions<BroadcastPeer, string>, "portName" | "onConnection"> {
  /**
   * This participant's name on the channel, unique among its listeners (default: a random one).
   * Every psession message carries `$from` (the sender's name) and `$to` (the one it is for).
   */
  name?: string;
}

/** Another participant of a BroadcastChannel, as psession knows it. */
export interface BroadcastPeer {
  readonly name: string;
}
