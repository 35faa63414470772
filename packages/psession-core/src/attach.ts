import type { SessionManager } from "./manager.js";
import type { Port } from "./port.js";
import type { Transport } from "./transport.js";
import type { Message, PortOptions } from "./types.js";

export interface AttachOptions extends Omit<PortOptions, "sender"> {
  /** Port to bind (default "default"). An existing port is re-bound: its sessions carry over. */
  port?: string;
  /**
   * When the transport closes, keep the port and its sessions for a later `attach()` under the
   * same name: sends with retries left re-send on the new transport, the others fail at once with
   * SessionAbortError. Default false: the port is destroyed and every pending send fails at once.
   */
  reconnect?: boolean;
}

/**
 * Binds a port to a transport: outgoing messages go to `transport.send`, every inbound message is
 * routed (`isSession` → `getSession` → `next`, else the "message" event), and the transport
 * closing destroys the port (or detaches it, with `reconnect`). Every adapter is built on this.
 */
export function attach<M = unknown>(
  manager: SessionManager,
  transport: Transport<M>,
  options: AttachOptions = {},
): Port {
  const name = options.port ?? "default";
  const sender = (message: Message) => transport.send(message as M);
  let port = manager.ports.get(name);
  if (port === undefined) {
    port = manager.createPort(name, { ...options, sender });
  } else {
    port._unbind();
    port._configure({ ...options, sender });
  }
  const bound = port;
  bound._reconnect = options.reconnect === true;
  const offMessage = transport.onMessage((message) => manager.receive(message, bound));
  const offClose = transport.onClose?.((reason) => {
    // A close from a transport this port has since been re-attached away from is not ours.
    if (bound._sender === sender) bound._transportClosed(reason);
  });
  bound._detach = () => {
    offMessage();
    offClose?.();
    if (bound._sender === sender) bound._sender = undefined;
  };
  return bound;
}
