import type { Socket } from "node:net";
import type { ChannelOptions, ConnectionPortsOptions } from "psession";
import type { NetOptions, SocketTransport } from "./socket-transport.js";

/**
 * `attach(manager, socket, options)`: the core's port options (`port`, `role` — default "client" —,
 * `reconnect`, …), every adapter's `serializer`, `heartbeat` and `maxFrameBytes`, plus `framing`
 * and `noDelay`.
 */
export interface NetSocketAttachOptions extends ChannelOptions, NetOptions {}

/**
 * `attach(manager, server, options)`: every connection gets its own port (role default "server").
 * `portName(socket)` names it (default `remoteAddress:remotePort`, or `unix:<n>` for a
 * Unix-domain socket); `onConnection(port, socket, transport)` runs for each.
 */
export interface NetServerAttachOptions
  extends ConnectionPortsOptions<Socket, undefined, SocketTransport>,
    NetOptions {}
