import type { ConnectionPorts, SessionManager } from "psession";
import { attachEndpoint } from "./attach-endpoint.js";
import { attachBroadcast, type BroadcastHandle } from "./broadcast.js";
import { isBroadcastChannel, isSharedWorkerScope } from "./detect.js";
import { attachSharedWorkerScope } from "./shared-worker.js";
import { isWindow } from "./window-wire.js";
import type {
  BroadcastAttachOptions,
  BroadcastChannelLike,
  BrowserWorkerLike,
  Endpoint,
  EndpointHandle,
  MessageChannelLike,
  NodeMessagePortLike,
  NodeWorkerLike,
  SharedWorkerAttachOptions,
  SharedWorkerLike,
  SharedWorkerScopeLike,
  WindowLike,
  WorkerAttachOptions,
  WorkerHandle,
} from "./types.js";

/**
 * Sessions over `postMessage`, in one line per side.
 * - A Worker (browser or `worker_threads`): role "client"; the handle's `terminate()` ends its sessions at once.
 * - `self` in a worker, `parentPort`, a MessagePort you were handed: role "server".
 * - A MessageChannel you created: its `port1` is used (role "client"); hand `port2` over.
 * - A SharedWorker (the page's side): role "client". `self` inside the SharedWorker: every page is its own port.
 * - A window or frame: `targetOrigin` required; inbound origins checked against `allowedOrigins`.
 * - A BroadcastChannel: every other participant is its own port, addressed by name.
 * - Any Comlink `Endpoint`: role-less unless `role` is given.
 */
export function attach(
  manager: SessionManager,
  worker: NodeWorkerLike | BrowserWorkerLike,
  options?: WorkerAttachOptions,
): WorkerHandle;
export function attach(
  manager: SessionManager,
  scope: SharedWorkerScopeLike,
  options?: SharedWorkerAttachOptions,
): ConnectionPorts<Endpoint>;
export function attach(
  manager: SessionManager,
  channel: BroadcastChannelLike,
  options?: BroadcastAttachOptions,
): BroadcastHandle;
export function attach(
  manager: SessionManager,
  endpoint: Endpoint | NodeMessagePortLike | MessageChannelLike | SharedWorkerLike | WindowLike,
  options?: WorkerAttachOptions,
): EndpointHandle;
export function attach(
  manager: SessionManager,
  endpoint: unknown,
  options: WorkerAttachOptions | SharedWorkerAttachOptions | BroadcastAttachOptions = {},
): EndpointHandle | WorkerHandle | ConnectionPorts<Endpoint> | BroadcastHandle {
  // First: a cross-origin window throws on reading almost anything else.
  if (typeof endpoint === "object" && endpoint !== null && isWindow(endpoint)) {
    return attachEndpoint(manager, endpoint, options as WorkerAttachOptions);
  }
  if (isBroadcastChannel(endpoint)) {
    return attachBroadcast(manager, endpoint as BroadcastChannelLike, options as BroadcastAttachOptions);
  }
  if (isSharedWorkerScope(endpoint)) {
    return attachSharedWorkerScope(manager, endpoint as SharedWorkerScopeLike, options as SharedWorkerAttachOptions);
  }
  return attachEndpoint(manager, endpoint, options as WorkerAttachOptions);
}
