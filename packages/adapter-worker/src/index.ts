export { attach } from "./attach.js";
export { transfer } from "./transfer.js";
export { createEndpointTransport } from "./attach-endpoint.js";
export { CONTROL_KEY } from "./transport.js";
export type { EndpointTransport, WireTransportOptions as EndpointTransportOptions } from "./transport.js";
export type { BroadcastHandle } from "./broadcast.js";
export type {
  BroadcastAttachOptions,
  BroadcastChannelLike,
  BroadcastPeer,
  BrowserWorkerLike,
  Endpoint,
  EndpointHandle,
  MessageChannelLike,
  NodeMessagePortLike,
  NodeWorkerLike,
  OriginList,
  SharedWorkerAttachOptions,
  SharedWorkerLike,
  SharedWorkerScopeLike,
  WindowLike,
  WorkerAttachOptions,
  WorkerHandle,
} from "./types.js";
export type { ConnectionPorts, HeartbeatOptions } from "psession";
