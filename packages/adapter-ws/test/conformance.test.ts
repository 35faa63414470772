import { runConformance } from "@psession/conformance";
import { attach, whenOpen } from "@psession/ws";
import type { WebSocket } from "ws";
import { afterEach } from "vitest";
import { socket, startServer, teardown } from "./helpers.js";

afterEach(teardown);

runConformance(
  "ws",
  async (client, server) => {
    const { wss, url, nextConnection } = await startServer();
    const handle = attach<WebSocket>(server, wss);
    const accepted = nextConnection();
    const ws = socket(url);
    const clientPort = attach(client, ws, { port: "server" });
    await whenOpen(ws);
    const serverSocket = await accepted;
    const serverPort = handle.portOf(serverSocket)!;
    return {
      clientPort,
      serverPort,
      // Strings go out as they are; bytes as a binary frame; anything else as JSON text.
      sendRaw: (value) => ws.send(typeof value === "string" || value instanceof Uint8Array ? value : JSON.stringify(value)),
      serverRaw: {
        onMessage(listener) {
          const decode = (data: Buffer) => listener(JSON.parse(data.toString()));
          serverSocket.on("message", decode);
          return () => serverSocket.off("message", decode);
        },
        send: (value) => serverSocket.send(JSON.stringify(value)),
      },
      disconnect: () => ws.terminate(),
      close: async () => {
        handle.close();
        ws.terminate();
        await teardown();
      },
    };
  },
  // A binary frame is not JSON: reported as an error like any other bad frame.
  { hostile: [new Uint8Array([0x7b, 0x22, 0x73]), new Uint8Array(0)] },
);
