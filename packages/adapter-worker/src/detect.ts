// Which endpoint is this, and which role does its holder take? The creator of a worker, frame or
// channel is the client; whoever was handed one (`self`, `parentPort`, a transferred MessagePort,
// `window.parent`) is the server. Decided from the object alone, never by asking the peer.
import type { Role } from "psession";
import type { Endpoint, NodeMessagePortLike, WorkerAttachOptions } from "./types.js";
import { eventWire, LABEL, nodeWire, type Wire } from "./wire.js";
import { isWindow, windowWire } from "./window-wire.js";
import { checkOrigins } from "./origins.js";

type Loose = Record<string, unknown>;

const isFunction = (value: unknown): value is (...args: unknown[]) => unknown => typeof value === "function";

export function isEndpoint(value: unknown): value is Endpoint {
  return (
    typeof value === "object" &&
    value !== null &&
    isFunction((value as Loose).postMessage) &&
    isFunction((value as Loose).addEventListener) &&
    isFunction((value as Loose).removeEventListener)
  );
}

function isNodeEmitter(value: Loose): boolean {
  return isFunction(value.postMessage) && isFunction(value.on) && isFunction(value.off);
}

export function isBroadcastChannel(value: unknown): boolean {
  const BC = (globalThis as { BroadcastChannel?: new (name: string) => object }).BroadcastChannel;
  return BC !== undefined && value instanceof BC;
}

/** `self` inside a SharedWorker: pages arrive as "connect" events. */
export function isSharedWorkerScope(value: unknown): boolean {
  return isEndpoint(value) === false && typeof value === "object" && value !== null && "onconnect" in value;
}

/** The wire for a one-to-one endpoint; throws a TypeError for anything else. */
export function wireFor(endpoint: unknown, options: WorkerAttachOptions, role?: Role): Wire {
  if (typeof endpoint !== "object" || endpoint === null) {
    throw new TypeError(
      `${LABEL}: attach() needs a worker, port, frame or channel, not ${endpoint === null ? "null" : typeof endpoint}`,
    );
  }
  // First: a cross-origin window throws on reading almost anything else.
  if (isWindow(endpoint)) return windowWire(endpoint, options);
  const e = endpoint as Loose;
  const allowedOrigins = options.allowedOrigins === undefined ? undefined : checkOrigins(options.allowedOrigins, LABEL);
  // A MessageChannel passed whole: its creator keeps port1 and hands port2 over.
  if (typeof e.port1 === "object" && e.port1 !== null && typeof e.port2 === "object" && !isFunction(e.postMessage)) {
    return wireFor(e.port1, options, "client");
  }
  if (isNodeEmitter(e)) {
    if (isFunction(e.terminate) && typeof e.threadId === "number") {
      return nodeWire(e as unknown as NodeMessagePortLike, "worker", role ?? "client");
    }
    return nodeWire(e as unknown as NodeMessagePortLike, "MessagePort", role ?? "server");
  }
  const closeOnError = options.closeOnError !== false;
  if (isEndpoint(e) && isFunction(e.terminate)) {
    const worker = e as unknown as Endpoint & { terminate(): void };
    return eventWire(worker, {
      kind: "worker",
      role: role ?? "client",
      allowedOrigins,
      errors: worker,
      closeOnError,
      terminate: async () => worker.terminate(),
    });
  }
  // A SharedWorker (the page's side): its port carries the messages, the worker object its errors.
  if (isEndpoint(e.port) && isFunction(e.addEventListener) && !isFunction(e.postMessage)) {
    const shared = e as unknown as Endpoint;
    return eventWire(e.port, {
      kind: "SharedWorker",
      role: role ?? "client",
      channel: e,
      allowedOrigins,
      errors: shared,
      closeOnError,
      closeEvent: true,
    });
  }
  if (isEndpoint(e)) {
    const Port = (globalThis as { MessagePort?: new () => object }).MessagePort;
    const isPort = Port !== undefined && e instanceof Port;
    // `self` in a dedicated worker: the page created us.
    const isScope = !isPort && isFunction(e.importScripts);
    return eventWire(e, {
      kind: isPort ? "MessagePort" : isScope ? "worker scope" : "endpoint",
      role: role ?? (isPort || isScope ? "server" : undefined),
      allowedOrigins,
      // Browsers that have it fire "close" on a MessagePort whose other end went away.
      closeEvent: isPort,
      messageErrors: isPort || isScope,
    });
  }
  throw new TypeError(
    `${LABEL}: attach() does not know this endpoint: it needs postMessage with addEventListener/removeEventListener (or on/off), a MessageChannel, or a window`,
  );
}
