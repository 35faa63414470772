// Real Socket.IO servers on 127.0.0.1 port 0 and real clients; everything made here is closed by
// `teardown()` (call it in afterEach).
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SessionManager, type SessionManagerOptions } from "psession";
import { Server, type ServerOptions } from "socket.io";
import { io as connect, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

export type Transport = "websocket" | "polling";
export const TRANSPORTS: Transport[] = ["websocket", "polling"];

export interface TestServer {
  io: Server;
  http: HttpServer;
  port: number;
  url: string;
  close(): Promise<void>;
}

const servers = new Set<TestServer>();
const sockets = new Set<Socket>();
const managers = new Set<SessionManager>();

/** A Socket.IO server on 127.0.0.1 (port 0 unless given: a restart reuses the port). */
export async function startServer(options: Partial<ServerOptions> = {}, port = 0): Promise<TestServer> {
  const http = createServer();
  const io = new Server(http, options);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => resolve());
  });
  const bound = (http.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const server: TestServer = {
    io,
    http,
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    close() {
      servers.delete(server);
      closed ??= new Promise<void>((resolve) => {
        io.close(() => resolve());
        http.closeAllConnections?.();
      });
      return closed;
    },
  };
  servers.add(server);
  return server;
}

/** A socket.io-client socket (one Manager per socket: `forceNew`), closed by teardown. */
export function client(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): Socket {
  const socket = connect(url, { forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 200, ...options });
  sockets.add(socket);
  return socket;
}

export function whenConnected(socket: Socket): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ok = () => {
      socket.off("connect_error", fail);
      resolve();
    };
    const fail = (error: Error) => {
      if (socket.active) return; // Socket.IO tries again
      socket.off("connect", ok);
      reject(error);
    };
    socket.once("connect", ok);
    socket.on("connect_error", fail);
  });
}

export function manager(options: SessionManagerOptions = {}): { manager: SessionManager; errors: Error[] } {
  const m = new SessionManager({ sessionTimeout: 5000, ...options });
  const errors: Error[] = [];
  m.on("error", (e) => void errors.push(e));
  managers.add(m);
  return { manager: m, errors };
}

export async function teardown(): Promise<void> {
  for (const m of managers) m.clear();
  managers.clear();
  for (const s of sockets) s.disconnect();
  sockets.clear();
  await Promise.all([...servers].map((s) => s.close()));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function until(check: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(5);
  }
}
