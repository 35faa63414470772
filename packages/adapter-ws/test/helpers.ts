// Real servers and sockets on 127.0.0.1 port 0, and a registry that tears all of them down.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { SessionManager, type Port, type SessionManagerOptions } from "psession";
import { WebSocket, WebSocketServer, type ClientOptions, type ServerOptions } from "ws";
import { whenOpen } from "@psession/ws";

const cleanups: (() => unknown)[] = [];

/** Runs after each test (see `teardown`): newest first, failures ignored. */
export function defer(fn: () => unknown): void {
  cleanups.push(fn);
}

export async function teardown(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch {
      // already gone
    }
  }
}

export interface TestServer {
  wss: WebSocketServer;
  url: string;
  /** Resolves with the next server-side socket. */
  nextConnection(): Promise<WebSocket>;
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, ...options });
  await once(wss, "listening");
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  );
  const { port } = wss.address() as AddressInfo;
  return {
    wss,
    url: `ws://127.0.0.1:${port}`,
    nextConnection: async () => ((await once(wss, "connection")) as [WebSocket])[0],
  };
}

/** A client socket, not yet open. */
export function socket(url: string, options: ClientOptions = {}): WebSocket {
  const ws = new WebSocket(url, options);
  defer(() => ws.terminate());
  return ws;
}

export async function openSocket(url: string, options: ClientOptions = {}): Promise<WebSocket> {
  const ws = socket(url, options);
  await whenOpen(ws);
  return ws;
}

export type TestManager = SessionManager & { errors: Error[]; errorPorts: (Port | undefined)[] };

/** A manager whose errors (and the ports they came with) are collected instead of logged; cleared after the test. */
export function manager(options: SessionManagerOptions = {}): TestManager {
  const m = new SessionManager({ sessionTimeout: 5000, ...options }) as TestManager;
  m.errors = [];
  m.errorPorts = [];
  m.on("error", (error, port) => {
    m.errors.push(error);
    m.errorPorts.push(port);
  });
  defer(() => m.clear());
  return m;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true (or fails after `ms`). */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(5);
  }
}

/** The TCP socket under a `ws` WebSocket (for local ports and hand-made hostile frames). */
export function tcpOf(ws: WebSocket): import("node:net").Socket {
  return (ws as unknown as { _socket: import("node:net").Socket })._socket;
}
