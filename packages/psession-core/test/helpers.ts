import { SessionManager, attach, createMemoryTransportPair, type SessionManagerOptions } from "psession";

/** Two managers attached to the two ends of an in-memory channel (client odd ids, server even). */
export function loopback(options: SessionManagerOptions = {}) {
  const [clientEnd, serverEnd] = createMemoryTransportPair();
  const client = new SessionManager(options);
  const server = new SessionManager(options);
  const errors: Error[] = [];
  client.on("error", (e) => void errors.push(e));
  server.on("error", (e) => void errors.push(e));
  const clientPort = attach(client, clientEnd, { role: "client" });
  const serverPort = attach(server, serverEnd, { role: "server" });
  return { client, server, clientEnd, serverEnd, clientPort, serverPort, errors };
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Settles `promise` into a value or the error it rejected with. */
export const settle = <T>(promise: Promise<T>): Promise<T | Error> => promise.catch((e: Error) => e);
