// The shared contract, over real connections: TCP (both framings), a Unix socket and TLS.
import { runConformance } from "@psession/conformance";
import { connectPair } from "./helpers.js";

runConformance("net tcp ndjson", (client, server) => connectPair(client, server, "tcp"), {
  // Channel-specific garbage: a lone surrogate and control bytes inside a line.
  hostile: ["\u0000\u0001", "{\"sid\":", "]", "\ud800"],
});
runConformance("net tcp length-prefix", (client, server) =>
  connectPair(client, server, "tcp", { framing: "length-prefix" }),
);
runConformance("net unix ndjson", (client, server) => connectPair(client, server, "unix"));
runConformance("net tls ndjson", (client, server) => connectPair(client, server, "tls"));
