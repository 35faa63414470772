import { attach as coreAttach, SessionChannelError, type Port, type SessionManager } from "psession";
import { wireFor } from "./detect.js";
import {
  createWireTransport,
  type EndpointTransport,
  type WireTransport,
  type WireTransportOptions,
} from "./transport.js";
import type { EndpointHandle, WorkerAttachOptions, WorkerHandle } from "./types.js";
import type { Wire } from "./wire.js";

/** The options psession's core takes; the rest are this package's. */
export function coreOptions<T extends WorkerAttachOptions>(options: T) {
  const {
    heartbeat: _h,
    targetOrigin: _t,
    allowedOrigins: _a,
    closeOnError: _c,
    context: _x,
    closedPollInterval: _p,
    ...core
  } = options;
  return core;
}

/** A transport for `wire` reporting on `manager`, handing it plain messages only while it listens for them. */
export function transportFor(
  manager: SessionManager,
  wire: Wire,
  options: WorkerAttachOptions,
  port: () => Port | undefined,
): WireTransport {
  return createWireTransport(wire, {
    sessionIdName: manager.sessionIdName,
    heartbeat: options.heartbeat,
    plain: () => manager.listenerCount("message") > 0,
    report: (error) => manager.report(error, port()),
  });
}

/** `attach()` for one worker, port, frame or channel. */
export function attachEndpoint(
  manager: SessionManager,
  endpoint: unknown,
  options: WorkerAttachOptions,
): EndpointHandle | WorkerHandle {
  const wire = wireFor(endpoint, options);
  let bound: Port | undefined;
  const transport = transportFor(manager, wire, options, () => bound);
  const port = coreAttach(manager, transport, coreOptions(options));
  bound = port;
  const handle: EndpointHandle = {
    port,
    role: port.role,
    close() {
      transport.close();
    },
  };
  const terminate = wire.terminate;
  if (terminate === undefined) return handle;
  return {
    ...handle,
    async terminate() {
      // Browsers say nothing when a worker is terminated: end its sessions now, then terminate.
      transport.shutdown(new SessionChannelError("CLOSED", "the worker was terminated"));
      await terminate();
    },
  };
}

/**
 * The Transport `attach()` builds, for raw use (your own routing, a bench): the same endpoint
 * detection, control frames and transfer lists, without a manager.
 */
export function createEndpointTransport(
  endpoint: unknown,
  options: WorkerAttachOptions & Pick<WireTransportOptions, "sessionIdName" | "plain" | "report"> = {},
): EndpointTransport {
  return createWireTransport(wireFor(endpoint, options), options);
}
