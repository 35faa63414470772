import type { Socket } from "node:net";
import type { AttachOptions, Port } from "psession";
import type { NetOptions, SocketTransport } from "./socket-transport.js";

/** `attach(manager, socket, options)`: the core's port options (default role "client") plus framing. */
export interface NetSocketAttachOptions extends AttachOptions, NetOptions {}

/** `attach(manager, server, options)`: every connection gets its own port (default role "server"). */
export interface NetServerAttachOptions extends Omit<AttachOptions, "port">, NetOptions {
  /**
   * Names the port of a new connection. Default `remoteAddress:remotePort`, or `unix:<n>` for a
   * Unix-domain socket (made unique on the manager). A name that already exists re-binds that port
   * (its sessions carry over, see the core's `attach`): useful with `reconnect` and a device id.
   */
  portName?: (socket: Socket) => string;
  /** Called for every new connection once its port is attached. */
  onConnection?: (port: Port, socket: Socket, transport: SocketTransport) => void;
}
