import { runConformance } from "@psession/conformance";
import { attach } from "@psession/socketio";
import type { Socket as ServerSocket } from "socket.io";
import type { Socket } from "socket.io-client";
import { afterEach, expect } from "vitest";
import { client as connect, startServer, teardown, TRANSPORTS, until, whenConnected } from "./helpers.js";

afterEach(teardown);

for (const transport of TRANSPORTS) {
  runConformance(
    `socket.io (${transport})`,
    async (client, server, { serializer, reconnect }) => {
      const srv = await startServer();
      const handle = attach(server, srv.io, { serializer, reconnect });
      const socket: Socket = connect(srv.url, {
        transports: [transport],
        // With reconnect, Socket.IO's own reconnection brings the channel back; the client's
        // auth.id names its port on the server, so the new connection finds the parked port.
        reconnection: reconnect === true,
        auth: { id: "the-client" },
      });
      const clientPort = attach(client, socket, { port: "server", serializer, reconnect });
      await whenConnected(socket);
      await until(() => handle.ports.size === 1, 5000, "the server to attach the connection");
      const serverPort = [...handle.ports.values()][0]!;
      const serverSocket = () => [...handle.ports.keys()][0] as unknown as ServerSocket;
      const raw = serverSocket();
      const engine = () => socket.io.engine as unknown as { close(): void };
      return {
        clientPort,
        serverPort,
        // Object frames: every value travels as itself, as Socket.IO encodes it.
        sendRaw: (value) => void socket.emit("psession", value),
        serverRaw: {
          onMessage(listener) {
            // This connection's psession end said hello (with $batch) before the raw peer took
            // over, so the client may send it batches: a raw listener here unpacks them. A peer
            // that never says hello never gets one (sessions.test.ts).
            const unpack = (frame: unknown) => {
              if (Array.isArray(frame)) for (const m of frame) listener(m);
              else listener(frame as never);
            };
            raw.on("psession", unpack);
            return () => void raw.off("psession", unpack);
          },
          send: (value) => void raw.emit("psession", value),
        },
        // As a network failure would: the transport goes, no Socket.IO disconnect packet.
        disconnect: () => engine().close(),
        async reconnect() {
          engine().close();
          await until(() => !clientPort.attached && !serverPort.attached, 5000, "both ends to notice");
          // Resolved the moment the client re-attaches (on the server's hello, after the server
          // did), not at the next poll: a turn the server re-sends then arrives after the case's
          // next send rather than before it (see reconnect.test.ts on that core case).
          await new Promise<void>((resolve) => {
            const off = client.on("port:state", (port, state) => {
              if (port !== clientPort || state !== "attached") return;
              off();
              resolve();
            });
          });
          expect(serverPort.attached).toBe(true);
        },
        close: async () => {
          handle.close();
          socket.disconnect();
          await srv.close();
        },
      };
    },
    {
      hostile: [new Uint8Array([0x7b, 0x22]), undefined, true, { a: [1, { b: null }] }],
      capabilities: {
        closeSignal: true,
        peerCloseSignal: true,
        rawWrites: false,
        roles: true,
        binary: true,
        heartbeat: false,
        reconnect: true,
        backPressure: false,
        rawPeer: true,
        batches: true,
      },
    },
  );
}
