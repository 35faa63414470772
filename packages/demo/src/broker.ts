// The embedded broker of `pnpm demo`: aedes in this process, on 127.0.0.1 and a free port, so the
// demo needs nothing installed. aedes speaks MQTT 3.1.1 only (MQTT 5 needs a real broker: MQTT_URL).
// With `websocket: true` it also takes MQTT over WebSocket, for the browser console.
import { createServer, type Server } from "node:http";
import net from "node:net";
import { Aedes } from "aedes";
import { createWebSocketStream, WebSocketServer } from "ws";

export interface EmbeddedBroker {
  url: string;
  /** ws://127.0.0.1:<port>, with `websocket: true`. */
  wsUrl: string | undefined;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: { websocket?: boolean } = {}): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    // Without TCP_NODELAY every small QoS 1 packet waits ~40 ms for Nagle and delayed ACKs.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const server = net.createServer((socket) => {
    track(socket);
    aedes.handle(socket);
  });
  const port = await listen(server);

  let http: Server | undefined;
  let wss: WebSocketServer | undefined;
  let wsPort: number | undefined;
  if (options.websocket) {
    http = createServer((_, response) => response.writeHead(426).end("MQTT over WebSocket only\n"));
    http.on("connection", track);
    // Browsers offer the "mqtt" subprotocol (MQTT.js: "mqttv3.1" for 3.1); take what is offered.
    wss = new WebSocketServer({
      server: http,
      handleProtocols: (protocols) => protocols.values().next().value ?? false,
    });
    wss.on("connection", (socket) => aedes.handle(createWebSocketStream(socket)));
    wsPort = await listen(http);
  }

  return {
    url: `mqtt://127.0.0.1:${port}`,
    wsUrl: wsPort === undefined ? undefined : `ws://127.0.0.1:${wsPort}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      if (wss !== undefined) await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (http !== undefined) await new Promise<void>((resolve) => http.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/** Listens on 127.0.0.1, a free port; resolves with the port. */
async function listen(server: net.Server | Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return (server.address() as net.AddressInfo).port;
}
