// The console's web server on 127.0.0.1: the page, its script (bundled by esbuild at start, from
// the sources: MQTT.js's browser build, @psession/mqtt, Chart.js), nothing else.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { ConsoleConfig } from "./config.js";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The page's script: one ES module. */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [here("./page/main.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // The workspace's sources, as the rest of the demo runs them (no build step needed).
    alias: {
      psession: here("../../../psession-core/src/index.ts"),
      "@psession/mqtt": here("../../../adapter-mqtt/src/index.ts"),
    },
    minify: true,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

export async function startWebServer(config: ConsoleConfig): Promise<WebServer> {
  const [template, script] = await Promise.all([readFile(here("./index.html"), "utf8"), bundlePage()]);
  // JSON in a non-executed script element; "<" escaped so no text in it can close the element.
  const json = JSON.stringify(config).replace(/</g, "\\u003c");
  const html = template.replace("<!--config-->", `<script type="application/json" id="config">${json}</script>`);
  const security = {
    // MQTT.js runs its keep-alive timer in a worker it makes from a blob.
    "content-security-policy": `default-src 'self'; connect-src ${config.wsUrl}; style-src 'self' 'unsafe-inline'; worker-src blob:`,
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", ...security }).end(html);
    } else if (path === "/favicon.ico") {
      response.writeHead(204).end();
    } else if (path === "/app.js") {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8", ...security }).end(script);
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
