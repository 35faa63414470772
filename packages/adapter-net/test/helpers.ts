// Real peers for the tests: loopback TCP on port 0, Unix sockets in a temp dir, TLS with a
// self-signed certificate made by `openssl` on first use.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import type { ChannelPair, PairOptions } from "@psession/conformance";
import { attach, createSocketTransport, type Framing, type NetOptions, type SocketTransport } from "@psession/net";
import type { Port, SessionManager } from "psession";

export type Kind = "tcp" | "unix" | "tls";

const tempDirs: string[] = [];
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "psession-net-"));
  tempDirs.push(dir);
  return dir;
}
process.on("exit", () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

let cert: { key: string; cert: string } | undefined;
/** A self-signed certificate for 127.0.0.1, made once per test file. */
export function selfSigned(): { key: string; cert: string } {
  if (cert !== undefined) return cert;
  const dir = tempDir();
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  cert = { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  return cert;
}

/** A listening server: TCP on 127.0.0.1 port 0, a Unix socket in a temp dir, or TLS on 127.0.0.1. */
export async function listen(
  kind: Kind,
  server?: net.Server,
): Promise<{ server: net.Server; connect: () => net.Socket }> {
  const srv = server ?? (kind === "tls" ? tls.createServer(selfSigned()) : net.createServer());
  if (kind === "unix") {
    const path = join(tempDir(), "s.sock");
    await new Promise<void>((resolve) => srv.listen(path, resolve));
    return { server: srv, connect: () => net.connect(path) };
  }
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as net.AddressInfo;
  return {
    server: srv,
    connect: () =>
      kind === "tls" ? tls.connect({ port, host: "127.0.0.1", ca: selfSigned().cert }) : net.connect(port, "127.0.0.1"),
  };
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** One frame's bytes, written by hand (what a non-psession peer puts on the wire). */
export function frame(framing: Framing, payload: string | Buffer): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  if (framing === "ndjson") return Buffer.concat([body, Buffer.from("\n")]);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Resolves once `socket` can carry data (TCP connect or TLS handshake). */
export function connected(socket: net.Socket): Promise<void> {
  const event = socket instanceof tls.TLSSocket ? "secureConnect" : "connect";
  return new Promise((resolve, reject) => {
    socket.once(event, () => resolve());
    socket.once("error", reject);
  });
}

export function closedOf(socket: net.Socket): Promise<void> {
  return new Promise((resolve) =>
    socket.destroyed && socket.closed ? resolve() : socket.once("close", () => resolve()),
  );
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or `ms` pass. */
export async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(5);
  }
}

/** A client manager and a server manager connected by one real connection of `kind`, for runConformance. */
export async function connectPair(
  client: SessionManager,
  server: SessionManager,
  kind: Kind,
  options: NetOptions = {},
  pairOptions: PairOptions = {},
): Promise<ChannelPair> {
  const framing = options.framing ?? "ndjson";
  const { serializer, heartbeat, reconnect } = pairOptions;
  const srv = kind === "tls" ? tls.createServer(selfSigned()) : net.createServer();
  let accepted!: (value: { port: Port; transport: SocketTransport }) => void;
  let serverSide = new Promise<{ port: Port; transport: SocketTransport }>((resolve) => (accepted = resolve));
  const attachment = attach(server, srv, {
    ...options,
    serializer,
    heartbeat,
    // A stable name, so that a new connection finds the parked port again.
    ...(reconnect ? { reconnect: true, portName: () => "the-client" } : {}),
    onConnection: (port, _socket, transport) => accepted({ port, transport }),
  });
  const { connect } = await listen(kind, srv);
  let socket!: net.Socket;
  let serverTransport!: SocketTransport;
  const open = async () => {
    socket = connect();
    const port = attach(client, socket, { ...options, serializer, heartbeat, reconnect, port: "server" });
    const ready = connected(socket);
    const side = await serverSide;
    serverTransport = side.transport;
    await ready;
    return { port, serverPort: side.port };
  };
  const { port: clientPort, serverPort } = await open();
  let transports: { client: SocketTransport; server: SocketTransport } | undefined;
  return {
    clientPort,
    serverPort,
    sendRaw: (value) =>
      void socket.write(
        value instanceof Uint8Array
          ? frame(framing, Buffer.from(value))
          : frame(framing, typeof value === "string" ? value : JSON.stringify(value)),
      ),
    serverRaw: {
      onMessage: (listener) => serverTransport.onMessage(listener),
      send: (value) => void serverTransport.send(value),
    },
    disconnect: () => void socket.destroy(),
    async reconnect() {
      socket.destroy();
      await until(() => !clientPort.attached && !serverPort.attached);
      serverSide = new Promise((resolve) => (accepted = resolve));
      await open();
      await until(() => clientPort.attached && serverPort.attached);
    },
    get transports() {
      // The server end's own transport; on the client end a second, raw view of the socket
      // (attach() keeps its transport to itself), used only to send and to watch the queue.
      return (transports ??= {
        client: createSocketTransport(socket, { ...options, role: "client" }),
        server: serverTransport,
      });
    },
    close: async () => {
      attachment.close({ closeConnections: true });
      socket.destroy();
      await closeServer(srv);
    },
  };
}

export { createSocketTransport };
