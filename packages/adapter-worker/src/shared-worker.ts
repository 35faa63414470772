// Inside a SharedWorker every page that connects is its own port (role "server"), on the core's
// attachConnections like every adapter's server side.
import { attachConnections, type ConnectionPorts, type SessionManager } from "psession";
import { coreOptions, transportFor } from "./attach-endpoint.js";
import type { Endpoint, SharedWorkerAttachOptions, SharedWorkerScopeLike } from "./types.js";
import type { WireTransport } from "./transport.js";
import { eventWire, LABEL } from "./wire.js";
import { checkOrigins } from "./origins.js";

export function attachSharedWorkerScope(
  manager: SessionManager,
  scope: SharedWorkerScopeLike,
  options: SharedWorkerAttachOptions,
): ConnectionPorts<Endpoint> {
  const { portName, onConnection, ...rest } = options;
  const allowedOrigins = rest.allowedOrigins === undefined ? undefined : checkOrigins(rest.allowedOrigins, LABEL);
  const transports = new Map<Endpoint, WireTransport>();
  let count = 0;
  const connections = attachConnections<Endpoint, number, WireTransport>(
    manager,
    {
      label: LABEL,
      listen(accept) {
        const onConnect = (event: { ports?: readonly Endpoint[] }) => {
          const port = event.ports?.[0];
          if (port !== undefined) accept(port, ++count);
        };
        scope.addEventListener("connect", onConnect);
        return () => scope.removeEventListener("connect", onConnect);
      },
      defaultName: (_port, n) => `connection-${n}`,
      transport(port) {
        const wire = eventWire(port, { kind: "MessagePort", role: "server", allowedOrigins, closeEvent: true });
        const transport = transportFor(manager, wire, rest, () => connections.portOf(port));
        // Forget the transports of pages that are gone.
        for (const known of transports.keys()) if (transports.get(known)!.closed) transports.delete(known);
        transports.set(port, transport);
        return transport;
      },
      end(port) {
        transports.get(port)?.close();
        (port as { close?(): void }).close?.();
      },
    },
    { ...coreOptions(rest), portName, onConnection },
  );
  return {
    ports: connections.ports,
    portOf: connections.portOf,
    close(closeOptions) {
      // Every page is told, so its pending sessions end at once (a browser MessagePort has no close event).
      for (const port of [...connections.ports.keys()]) transports.get(port)?.close();
      transports.clear();
      connections.close(closeOptions);
    },
  };
}
