// The shared contract, over real connections: TCP (both framings), a Unix socket and TLS.
import { runConformance, type ChannelCapabilities } from "@psession/conformance";
import { connectPair } from "./helpers.js";

const capabilities: ChannelCapabilities = {
  closeSignal: true,
  peerCloseSignal: true,
  rawWrites: true,
  roles: true,
  binary: true,
  heartbeat: true,
  reconnect: true,
  backPressure: true,
};

runConformance("net tcp ndjson", (client, server, options) => connectPair(client, server, "tcp", {}, options), {
  // Channel-specific garbage: a lone surrogate and control bytes inside a line.
  hostile: ["\u0000\u0001", '{"sid":', "]", "\ud800"],
  // A blank NDJSON line is no frame: skipped, not reported (issue 15 item 16).
  capabilities: { ...capabilities, skipsEmptyFrames: true },
});
runConformance(
  "net tcp length-prefix",
  (client, server, options) => connectPair(client, server, "tcp", { framing: "length-prefix" }, options),
  // An empty length-prefixed frame is a frame: reported when it does not decode.
  { capabilities, hostile: [new Uint8Array([0x7b, 0x22, 0x73])] },
);
runConformance("net unix ndjson", (client, server, options) => connectPair(client, server, "unix", {}, options), {
  capabilities: { ...capabilities, skipsEmptyFrames: true },
});
runConformance("net tls ndjson", (client, server, options) => connectPair(client, server, "tls", {}, options), {
  capabilities: { ...capabilities, skipsEmptyFrames: true },
});
