import type { Port, SessionManager } from "psession";
import type { MqttClientLike } from "./client.js";
import { MqttLink } from "./link.js";
import type { MqttAttachOptions } from "./options.js";

/** What `attach(manager, client, options)` returns. */
export interface MqttAttachment {
  /**
   * The port for `name`, made on first use: a device named by the templates (a controller), or the
   * one port of a device (no argument). `manager.createSession(name)` does the same by itself.
   */
  port(name?: string): Port;
  /** Names of the ports made so far. */
  readonly portNames: string[];
  /** True while subscriptions are active (SUBACK received on the current connection). */
  readonly ready: boolean;
  /** Resolves once subscriptions are active. Sends do not need it: they wait for it by themselves. */
  whenReady(): Promise<void>;
  /** True when `device`'s status topic last said "offline": sends to it fail at once (`OFFLINE`). */
  isOffline(device: string): boolean;
  /**
   * Detaches from the client and the manager: every port made here is destroyed (pending sessions
   * abort), our subscriptions are removed, and a device publishes `offline` on its status topic.
   * The client stays connected; end it yourself.
   */
  close(): Promise<void>;
}

/**
 * Binds an MQTT.js client to a manager. Topics are templates where `{port}` is the one level that
 * names a device:
 * - controller: `attach(manager, client, { publish: "devices/{port}/in", subscribe: "devices/{port}/out" })`,
 *   then `manager.createSession("lamp-1")` for any device (role "client");
 * - device: `attach(manager, client, { publish: "devices/lamp-1/out", subscribe: "devices/lamp-1/in" })`,
 *   one port, "default" (role "server").
 */
export function attach(manager: SessionManager, client: MqttClientLike, options: MqttAttachOptions): MqttAttachment {
  const link = new MqttLink(manager, client, options);
  return {
    port: (name?: string) => link.ensurePort(name ?? options.port ?? "default"),
    get portNames() {
      return [...link.ports.keys()];
    },
    get ready() {
      return link.isReady;
    },
    whenReady: () => link.whenReady(),
    isOffline: (device: string) => link.offline.has(device),
    close: () => link.close(),
  };
}
