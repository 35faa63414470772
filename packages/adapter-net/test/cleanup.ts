// Everything a test opens is registered here and torn down after it, pass or fail.
import type net from "node:net";
import type { SessionManager } from "psession";
import { afterEach } from "vitest";
import { closeServer } from "./helpers.js";

const servers = new Set<net.Server>();
const sockets = new Set<net.Socket>();
const managers = new Set<SessionManager>();

export function track<T extends net.Server | net.Socket | SessionManager>(thing: T): T {
  if ("listen" in thing) {
    const server = thing as net.Server;
    servers.add(server);
    // Accepted sockets too, so that closing the server never waits on a lingering connection.
    server.on("connection", (socket: net.Socket) => void sockets.add(socket));
  } else if ("write" in thing) sockets.add(thing as net.Socket);
  else managers.add(thing as SessionManager);
  return thing;
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  for (const manager of managers) manager.clear();
  await Promise.all([...servers].map((server) => closeServer(server)));
  sockets.clear();
  servers.clear();
  managers.clear();
});
