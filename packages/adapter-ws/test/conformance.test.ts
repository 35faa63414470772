import { runConformance } from "@psession/conformance";
import { attach, SocketTransport, whenOpen } from "@psession/ws";
import type { WebSocket } from "ws";
import { afterEach } from "vitest";
import { socket, startServer, teardown, until } from "./helpers.js";

afterEach(teardown);

runConformance(
  "ws",
  async (client, server, { serializer, heartbeat, reconnect }) => {
    const { wss, url, nextConnection } = await startServer();
    let serverTransport: SocketTransport | undefined;
    const handle = attach<WebSocket>(server, wss, {
      serializer,
      heartbeat,
      // A stable name, so that a new connection finds the parked port again.
      ...(reconnect ? { reconnect: true, portName: () => "the-client" } : {}),
      onConnection: (_port, _socket, transport) => void (serverTransport = transport),
    });
    let ws!: WebSocket;
    let serverSocket!: WebSocket;
    const connect = async () => {
      const accepted = nextConnection();
      ws = socket(url);
      const port = attach(client, ws, { port: "server", serializer, heartbeat, reconnect });
      serverSocket = await accepted;
      await whenOpen(ws);
      return port;
    };
    const clientPort = await connect();
    const serverPort = handle.portOf(serverSocket)!;
    let transports: { client: SocketTransport; server: SocketTransport } | undefined;
    return {
      clientPort,
      serverPort,
      // Strings go out as they are; bytes as a binary frame; anything else as JSON text.
      sendRaw: (value) =>
        ws.send(typeof value === "string" || value instanceof Uint8Array ? value : JSON.stringify(value)),
      serverRaw: {
        onMessage(listener) {
          const decode = (data: Buffer) => listener(JSON.parse(data.toString()));
          serverSocket.on("message", decode);
          return () => serverSocket.off("message", decode);
        },
        send: (value) => serverSocket.send(JSON.stringify(value)),
      },
      disconnect: () => ws.terminate(),
      async reconnect() {
        ws.terminate();
        await until(() => !clientPort.attached && !serverPort.attached);
        await connect();
        await until(() => clientPort.attached && serverPort.attached);
      },
      get transports() {
        // The server end's own transport; on the client end a second, raw view of the socket
        // (attach() keeps its transport to itself), used only to send and to watch the queue.
        return (transports ??= { client: new SocketTransport(ws, { role: "client" }), server: serverTransport! });
      },
      close: async () => {
        handle.close();
        ws.terminate();
        await teardown();
      },
    };
  },
  {
    // A binary frame is not JSON: reported as an error like any other bad frame.
    hostile: [new Uint8Array([0x7b, 0x22, 0x73]), new Uint8Array(0)],
    capabilities: {
      closeSignal: true,
      peerCloseSignal: true,
      rawWrites: true,
      roles: true,
      binary: true,
      heartbeat: true,
      reconnect: true,
      backPressure: true,
    },
  },
);
