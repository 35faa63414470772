import { runConformance } from "@psession/conformance";
import { attach, createMemoryTransportPair } from "psession";

runConformance("in-memory transport", async (client, server) => {
  const [a, b] = createMemoryTransportPair();
  const clientPort = attach(client, a, { role: "client" });
  const serverPort = attach(server, b, { role: "server" });
  return {
    clientPort,
    serverPort,
    sendRaw: (value) => a.send(value),
    serverRaw: { onMessage: (listener) => b.onMessage(listener), send: (value) => b.send(value) },
    disconnect: () => a.close(new Error("link down")),
    close: async () => a.close(),
  };
});
