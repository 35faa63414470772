// A wire is one endpoint seen the same way whatever it is: post a value, listen for values, learn
// when it is gone. Everything above (control frames, heartbeat, psession) is written once on top.
import { SessionChannelError, type Role } from "psession";
import { originAllowed } from "./origins.js";
import type { Endpoint, NodeMessagePortLike, NodeWorkerLike, OriginList } from "./types.js";

export const LABEL = "@psession/worker";

export interface WireSink {
  /** A value arrived. */
  data(value: unknown): void;
  /** Something to report; the channel stays (a messageerror, a refused origin). */
  fault(error: Error): void;
  /** The channel is gone (a worker crashed or exited, a port closed). */
  closed(reason: Error): void;
}

export interface Wire {
  /** What the endpoint is, for messages: "worker", "MessagePort", "window", ... */
  readonly kind: string;
  /** The object psession is attached to (one attach per channel). */
  readonly channel: object;
  readonly role: Role | undefined;
  /** Posts one value; throws what postMessage throws (DataCloneError). */
  post(value: unknown, transfer: readonly unknown[] | undefined): void;
  /** Starts listening; returns what stops it. */
  open(sink: WireSink): () => void;
  /** Workers: terminates the worker. */
  terminate?(): Promise<void>;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function messageError(kind: string, cause: unknown): SessionChannelError {
  return new SessionChannelError(
    "DECODE_FAILED",
    `a message from the ${kind} could not be deserialized (messageerror); it is lost and its session ends by its timeout`,
    { cause },
  );
}

/** A worker_threads Worker, MessagePort or parentPort: EventEmitter listeners get the value itself. */
export function nodeWire(endpoint: NodeMessagePortLike, kind: "worker" | "MessagePort", role: Role | undefined): Wire {
  const worker = kind === "worker" ? (endpoint as NodeWorkerLike) : undefined;
  const wire: Wire = {
    kind,
    channel: endpoint,
    role,
    post(value, transfer) {
      if (transfer === undefined) endpoint.postMessage(value);
      else endpoint.postMessage(value, transfer);
    },
    open(sink) {
      const onMessage = (value: unknown) => sink.data(value);
      const onMessageError = (error: unknown) => sink.fault(messageError(kind, error));
      const onError = (error: unknown) => {
        // Reported as well: a crash with no session pending must not vanish in our listener.
        const reason = new SessionChannelError("CLOSED", `the worker crashed: ${describe(error)}`, { cause: error });
        sink.fault(reason);
        sink.closed(reason);
      };
      const onExit = (code: number | undefined) =>
        sink.closed(
          new SessionChannelError(
            "CLOSED",
            code === undefined ? "the worker had already exited" : `the worker exited (exit code ${code})`,
          ),
        );
      const onClose = () => sink.closed(new SessionChannelError("CLOSED", "the MessagePort was closed"));
      endpoint.on("message", onMessage);
      endpoint.on("messageerror", onMessageError);
      if (worker !== undefined) {
        endpoint.on("error", onError);
        endpoint.on("exit", onExit);
        // Already gone: no event will come.
        if (worker.threadId === -1) queueMicrotask(() => onExit(undefined));
      } else {
        endpoint.on("close", onClose);
      }
      return () => {
        endpoint.off("message", onMessage);
        endpoint.off("messageerror", onMessageError);
        endpoint.off("error", onError);
        endpoint.off("exit", onExit);
        endpoint.off("close", onClose);
        if (worker !== undefined && worker.threadId !== -1) {
          // A Worker handed back to the application keeps an "error" listener until it exits: an
          // EventEmitter without one would throw the next crash out of the process.
          const guard = (error: unknown) =>
            sink.fault(
              new SessionChannelError("CLOSED", `the worker crashed after psession let go of it: ${describe(error)}`, {
                cause: error,
              }),
            );
          const release = () => {
            endpoint.off("error", guard);
            endpoint.off("exit", release);
          };
          endpoint.on("error", guard);
          endpoint.on("exit", release);
        }
      };
    },
  };
  if (worker !== undefined) {
    wire.terminate = async () => {
      await worker.terminate();
    };
  }
  return wire;
}

export interface EventWireOptions {
  kind: string;
  role: Role | undefined;
  channel?: object;
  /** Checked against `event.origin` when given. */
  allowedOrigins?: OriginList | undefined;
  /** Where "error" events mean a crash (a Worker, a SharedWorker); they close the wire unless `closeOnError` is false. */
  errors?: Pick<Endpoint, "addEventListener" | "removeEventListener"> | undefined;
  closeOnError?: boolean;
  /** Listen for "close" (a MessagePort in browsers that have the event, Node's MessagePort). */
  closeEvent?: boolean;
  /**
   * Listen for "messageerror" (default true). Off for endpoints of unknown make: some wrappers
   * (Comlink's nodeEndpoint) ignore the event type and would deliver every message there too.
   */
  messageErrors?: boolean;
  terminate?: () => Promise<void>;
}

/** Anything with addEventListener: browser Workers, MessagePorts, `self`, BroadcastChannels, Comlink endpoints. */
export function eventWire(endpoint: Endpoint, options: EventWireOptions): Wire {
  const { kind, allowedOrigins, errors, closeEvent } = options;
  const closeOnError = options.closeOnError !== false;
  const messageErrors = options.messageErrors !== false;
  const wire: Wire = {
    kind,
    channel: options.channel ?? endpoint,
    role: options.role,
    post(value, transfer) {
      if (transfer === undefined) endpoint.postMessage(value);
      else endpoint.postMessage(value, transfer);
    },
    open(sink) {
      const onMessage = (event: { data: unknown; origin?: unknown }) => {
        if (allowedOrigins !== undefined && !originAllowed(allowedOrigins, event.origin)) {
          sink.fault(refusedOrigin(kind, event.origin));
          return;
        }
        sink.data(event.data);
      };
      const onMessageError = (event: unknown) => sink.fault(messageError(kind, event));
      const onError = (event: { message?: unknown; error?: unknown }) => {
        const detail = typeof event?.message === "string" && event.message !== "" ? event.message : "an error event";
        const reason = new SessionChannelError("CLOSED", `the ${kind} failed: ${detail}`, {
          cause: event?.error ?? event,
        });
        sink.fault(reason);
        if (closeOnError) sink.closed(reason);
      };
      const onClose = () => sink.closed(new SessionChannelError("CLOSED", `the ${kind} was closed`));
      endpoint.addEventListener("message", onMessage);
      if (messageErrors) endpoint.addEventListener("messageerror", onMessageError);
      errors?.addEventListener("error", onError);
      if (closeEvent) endpoint.addEventListener("close", onClose);
      // A MessagePort delivers nothing to addEventListener listeners until started.
      endpoint.start?.();
      return () => {
        endpoint.removeEventListener("message", onMessage);
        if (messageErrors) endpoint.removeEventListener("messageerror", onMessageError);
        errors?.removeEventListener("error", onError);
        if (closeEvent) endpoint.removeEventListener("close", onClose);
      };
    },
  };
  if (options.terminate !== undefined) wire.terminate = options.terminate;
  return wire;
}

export function refusedOrigin(kind: string, origin: unknown): SessionChannelError {
  const shown = typeof origin === "string" ? JSON.stringify(origin.slice(0, 200)) : String(origin);
  return new SessionChannelError(
    "REFUSED",
    `a message from origin ${shown} is not in allowedOrigins of this ${kind}: dropped`,
  );
}
