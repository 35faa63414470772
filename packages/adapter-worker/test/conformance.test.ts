// The shared contract on three postMessage channels: a Node MessageChannel, a real worker_threads
// Worker relaying to a port, and a Comlink-shaped endpoint, which has no close event.
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { runConformance, type ChannelPair, type PairOptions } from "@psession/conformance";
import { attach } from "@psession/worker";
import nodeEndpoint from "comlink/dist/umd/node-adapter.js";
import type { SessionManager } from "psession";
import { nextMessage, startWorker } from "./helpers.js";

/** serverRaw over a Node MessagePort: what a peer without psession sees. */
function rawOf(port: MessagePort): NonNullable<ChannelPair["serverRaw"]> {
  return {
    onMessage(listener) {
      port.on("message", listener);
      return () => port.off("message", listener);
    },
    send: (value) => port.postMessage(value),
  };
}

runConformance(
  "worker: Node MessageChannel",
  async (client: SessionManager, server: SessionManager, options: PairOptions): Promise<ChannelPair> => {
    const { heartbeat, reconnect } = options;
    let channel = new MessageChannel();
    const connect = () => ({
      client: attach(client, channel, { port: "worker", heartbeat, reconnect }),
      server: attach(server, channel.port2, { port: "page", heartbeat, reconnect }),
    });
    const first = connect();
    return {
      clientPort: first.client.port,
      serverPort: first.server.port,
      sendRaw: (value) => channel.port1.postMessage(value),
      serverRaw: rawOf(channel.port2),
      disconnect: () => channel.port1.close(),
      async reconnect() {
        // The old channel closes (both ports parked with their sessions), a new one takes over.
        const old = channel;
        old.port1.close();
        await new Promise((resolve) => setTimeout(resolve, 10));
        channel = new MessageChannel();
        connect();
      },
      async close() {
        channel.port1.close();
        channel.port2.close();
      },
    };
  },
  { capabilities: { closeSignal: true, peerCloseSignal: true, roles: true, heartbeat: true, reconnect: true } },
);

runConformance(
  "worker: a worker_threads Worker between the two ends",
  async (client: SessionManager, server: SessionManager, options: PairOptions): Promise<ChannelPair> => {
    const channel = new MessageChannel();
    const worker = await startWorker("relay", { port: channel.port2 }, [channel.port2]);
    await nextMessage(worker, (m) => m.relayReady === true);
    const clientHandle = attach(client, worker, { port: "worker", heartbeat: options.heartbeat });
    const serverHandle = attach(server, channel.port1, { port: "page", heartbeat: options.heartbeat });
    return {
      clientPort: clientHandle.port,
      serverPort: serverHandle.port,
      sendRaw: (value) => worker.postMessage(value),
      serverRaw: rawOf(channel.port1),
      disconnect: () => worker.terminate().then(() => undefined),
      async close() {
        await worker.terminate();
        channel.port1.close();
      },
    };
  },
  { concurrency: 500, capabilities: { closeSignal: true, peerCloseSignal: true, roles: true, heartbeat: true } },
);

runConformance(
  "worker: a Comlink Endpoint (no close event: pending sessions end by their timeout, or a heartbeat)",
  async (client: SessionManager, server: SessionManager, options: PairOptions): Promise<ChannelPair> => {
    const channel = new MessageChannel();
    // Any object of Comlink's Endpoint shape is role-less unless told: both directions need roles.
    const clientHandle = attach(client, nodeEndpoint(channel.port1), { role: "client", heartbeat: options.heartbeat });
    const serverHandle = attach(server, nodeEndpoint(channel.port2), { role: "server", heartbeat: options.heartbeat });
    return {
      clientPort: clientHandle.port,
      serverPort: serverHandle.port,
      sendRaw: (value) => channel.port1.postMessage(value),
      serverRaw: rawOf(channel.port2),
      disconnect: () => channel.port1.close(),
      async close() {
        channel.port1.close();
        channel.port2.close();
      },
    };
  },
  { capabilities: { closeSignal: false, peerCloseSignal: false, heartbeat: true } },
);
