export { SessionManager } from "./manager.js";
export { Session } from "./session.js";
export { Port } from "./port.js";
export { attach } from "./attach.js";
export type { AttachOptions } from "./attach.js";
export type { Transport } from "./transport.js";
export { DEFAULT_MAX_FRAME_BYTES } from "./serializer.js";
export type { Serializer } from "./serializer.js";
export { attachConnections, describeConnectionPorts, heartbeatSettings, maxFrameBytesSetting } from "./connections.js";
export type {
  ChannelOptions,
  ConnectionPorts,
  ConnectionPortsOptions,
  ConnectionSource,
  EndReason,
  HeartbeatOptions,
} from "./connections.js";
export { ReadBudget, frameCost } from "./read-budget.js";
export { createMemoryTransportPair } from "./memory.js";
export type { MemoryTransport, MemoryPairOptions } from "./memory.js";
export {
  SessionError,
  SessionTimeoutError,
  SessionCancelError,
  SessionInvalidError,
  SessionAbortError,
  SessionSendError,
  SessionRemoteError,
  SessionChannelError,
} from "./errors.js";
export type { RemoteErrorInfo, SessionChannelErrorCode } from "./errors.js";
export type {
  ManagerStats,
  PortState,
  PortStats,
  RoundTripStats,
  SessionOutcome,
  SessionStats,
  StatsOptions,
} from "./stats.js";
export type {
  Page,
  PortFilter,
  PortSnapshot,
  SessionFilter,
  SessionSnapshot,
  SessionState,
} from "./listing.js";
export type {
  Handler,
  ManagerEvents,
  Message,
  PortOptions,
  Role,
  SendOptions,
  Sender,
  SessionEvents,
  SessionManagerOptions,
  SessionOptions,
  TransferExtras,
} from "./types.js";
