// Real brokers for the tests and the benchmark: an embedded aedes (MQTT 3.1.1, in-process, on
// 127.0.0.1 port 0) and a private mosquitto started with a config written here, on a free
// loopback port, so a test owns it and may stop and restart it. No vitest in here: bench/ uses it.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Aedes } from "aedes";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

export interface Broker {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface AedesBroker extends Broker {
  aedes: Aedes;
  /** Destroys every accepted connection, as a network cut would; the broker keeps listening. */
  cut(): void;
}

/** aedes on 127.0.0.1 port 0, TCP_NODELAY on accepted sockets (unless `noDelay: false`). */
export async function startAedes(options: { noDelay?: boolean } = {}): Promise<AedesBroker> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    if (options.noDelay !== false) socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    aedes,
    url: `mqtt://127.0.0.1:${port}`,
    port,
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/** The mosquitto binary, or undefined when it is not installed. */
export function findMosquitto(): string | undefined {
  const candidates = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto"];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir) candidates.push(join(dir, "mosquitto"));
  return candidates.find((path) => existsSync(path));
}

export interface MosquittoOptions {
  /** `set_tcp_nodelay` (default true). */
  noDelay?: boolean;
  /** Extra config lines (e.g. "max_queued_messages 0"). */
  config?: string[];
}

export interface MosquittoBroker extends Broker {
  /** Kills the broker (SIGKILL: no goodbye to clients, nothing persisted). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same config. */
  start(): Promise<void>;
  readonly log: string;
}

/** A free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`, or rejects after `ms`. */
export async function waitForPort(port: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A private mosquitto on a free loopback port, with a config file written in a temp dir. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const binary = findMosquitto();
  if (binary === undefined) throw new Error("mosquitto is not installed (apt-get install -y mosquitto)");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "psession-mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  const lines = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence false",
    `set_tcp_nodelay ${options.noDelay === false ? "false" : "true"}`,
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    ...(options.config ?? []),
  ];
  // As root, mosquitto drops to the `mosquitto` user; keep root so it can read the temp config.
  if (process.getuid?.() === 0) lines.push("user root");
  writeFileSync(conf, `${lines.join("\n")}\n`);
  let child: ChildProcess | undefined;
  let log = "";
  const start = async (): Promise<void> => {
    const proc = spawn(binary, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    proc.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.length > 20_000) log = log.slice(-10_000);
    });
    const exited = new Promise<never>((_, reject) =>
      proc.once("exit", (code) => reject(new Error(`mosquitto exited (code ${code}): ${log.trim()}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPort(port), exited]);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGKILL");
    await gone;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    start,
    stop,
    get log() {
      return log;
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An MQTT.js client, connected (resolves on the first CONNACK). Reconnects quickly by default,
 * so the broker-restart tests do not wait a second per attempt.
 */
export async function connectClient(
  url: string,
  options: IClientOptions = {},
  setup?: (client: MqttClient) => void,
): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 100, connectTimeout: 5000, ...options });
  setup?.(client); // before the CONNACK: a persistent session's queued messages follow right after it
  // A refused reconnect is an "error" event: never let one escape as an uncaught exception.
  client.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      client.off("connect", done);
      client.end(true);
      reject(error);
    };
    const done = () => {
      client.off("error", fail);
      resolve();
    };
    client.once("connect", done);
    client.once("error", fail);
  });
  return client;
}

export function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(true, {}, () => resolve()));
}
