import { SessionError, SessionInvalidError, type Port, type SessionManager, type Transport } from "psession";
import { Heartbeat } from "./heartbeat.js";
import { bytesOf, jsonSerializer, textOf } from "./serializer.js";
import { CLOSED, OPEN, type HeartbeatOptions, type Serializer, type WebSocketLike } from "./types.js";

const STATES = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"];

/** A `ws` WebSocket (Node): EventEmitter API, ping/pong, terminate. */
interface NodeSocket extends WebSocketLike {
  on(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  ping(): void;
  terminate(): void;
}

/** A browser (WHATWG) WebSocket. */
interface BrowserSocket extends WebSocketLike {
  binaryType: string;
  addEventListener(type: string, listener: (event: any) => void): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  removeEventListener(type: string, listener: (event: any) => void): void; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * One socket as a psession Transport. It only moves frames: encode/decode, report what cannot be
 * decoded, and tell the core when the connection is gone. Routing, sids, retries and timeouts are
 * the core's. Exactly one message and one close listener (the core's `attach`) are supported.
 */
export class SocketTransport implements Transport<unknown> {
  /** The port the core bound to this transport; set right after `attach()`. */
  port: Port | undefined = undefined;
  private readonly node: boolean;
  private onmessage: ((message: unknown) => void) | undefined = undefined;
  private onclose: ((reason?: unknown) => void) | undefined = undefined;
  private closed = false;
  private installed = false;
  private heartbeat: Heartbeat | undefined = undefined;
  private readonly serializer: Serializer;

  constructor(
    private readonly manager: SessionManager,
    readonly socket: WebSocketLike,
    serializer: Serializer | undefined,
    private readonly heartbeatOptions: HeartbeatOptions | undefined,
    private readonly onTeardown?: () => void,
  ) {
    this.serializer = serializer ?? jsonSerializer;
    this.node = typeof (socket as Partial<NodeSocket>).on === "function";
  }

  send(message: unknown): void {
    const socket = this.socket;
    if (socket.readyState !== OPEN) {
      throw new Error(`WebSocket is not open (readyState ${socket.readyState} ${STATES[socket.readyState] ?? "?"})`);
    }
    socket.send(this.serializer.encode(message));
  }

  onMessage(listener: (message: unknown) => void): () => void {
    if (this.onmessage !== undefined) throw new Error("@psession/ws: this transport already has a message listener");
    this.onmessage = listener;
    this.install();
    return this.teardown;
  }

  onClose(listener: (reason?: unknown) => void): () => void {
    this.onclose = listener;
    // A socket that is already closed will never say so: tell the core now.
    if (this.socket.readyState === CLOSED) queueMicrotask(() => this.gone(new SessionError("WebSocket was already closed")));
    return this.teardown;
  }

  close(): void {
    this.socket.close();
  }

  // ---- socket events -----------------------------------------------------------------------

  private install(): void {
    if (this.installed) return;
    this.installed = true;
    if (this.node) {
      const s = this.socket as NodeSocket;
      s.on("message", this.nodeMessage);
      s.on("close", this.nodeClose);
      s.on("error", this.failed);
      if (this.heartbeatOptions !== undefined && typeof s.ping === "function") {
        this.heartbeat = new Heartbeat(s, this.heartbeatOptions, this.dead);
        s.on("pong", this.heartbeat.pong);
      }
    } else {
      const s = this.socket as BrowserSocket;
      // Blobs would make every binary frame asynchronous.
      if (s.binaryType === "blob") s.binaryType = "arraybuffer";
      s.addEventListener("message", this.browserMessage);
      s.addEventListener("close", this.browserClose);
      s.addEventListener("error", this.failed);
    }
  }

  /** Removes every listener this transport put on the socket and stops the heartbeat. Idempotent. */
  readonly teardown = (): void => {
    this.onmessage = undefined;
    this.onclose = undefined;
    if (!this.installed) return;
    this.installed = false;
    this.heartbeat?.stop();
    if (this.node) {
      const s = this.socket as NodeSocket;
      s.off("message", this.nodeMessage);
      s.off("close", this.nodeClose);
      s.off("error", this.failed);
      if (this.heartbeat !== undefined) s.off("pong", this.heartbeat.pong);
    } else {
      const s = this.socket as BrowserSocket;
      s.removeEventListener("message", this.browserMessage);
      s.removeEventListener("close", this.browserClose);
      s.removeEventListener("error", this.failed);
    }
    this.heartbeat = undefined;
    this.onTeardown?.();
  };

  private readonly nodeMessage = (data: unknown, isBinary: boolean): void => {
    let message: unknown;
    try {
      message = this.serializer.decode(isBinary ? bytesOf(data) : textOf(data));
    } catch (error) {
      this.undecodable(error, isBinary);
      return;
    }
    this.onmessage?.(message);
  };

  private readonly browserMessage = (event: { data: unknown }): void => {
    const data = event.data;
    const isBinary = typeof data !== "string";
    let message: unknown;
    try {
      message = this.serializer.decode(isBinary ? bytesOf(data) : (data as string));
    } catch (error) {
      this.undecodable(error, isBinary);
      return;
    }
    this.onmessage?.(message);
  };

  private undecodable(error: unknown, isBinary: boolean): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.manager.report(
      new SessionInvalidError(
        `${this.where()}${isBinary ? "binary" : "text"} frame dropped: the serializer could not decode it (${reason})`,
        { cause: error },
      ),
      this.port,
    );
  }

  private readonly nodeClose = (code: number, reason: unknown): void => {
    this.gone(closeError(code, reason === undefined ? "" : textOf(reason)));
  };

  private readonly browserClose = (event: { code: number; reason: string }): void => {
    this.gone(closeError(event.code, event.reason));
  };

  /** A socket error (a protocol violation, a frame over maxPayload, a failed connect): report, then fail fast. */
  private readonly failed = (event: unknown): void => {
    const cause = event instanceof Error ? event : (event as { error?: unknown } | undefined)?.error;
    const detail = cause instanceof Error ? `: ${cause.message}` : "";
    const error = new SessionError(`${this.where()}WebSocket error${detail}`, { cause: cause ?? event });
    this.manager.report(error, this.port);
    // ws and browsers follow an error with a close, but ws may first wait for the peer's close frame.
    this.gone(error);
  };

  private readonly dead = (timeout: number): void => {
    const error = new SessionError(`${this.where()}heartbeat: no pong within ${timeout} ms, connection terminated`);
    this.manager.report(error, this.port);
    this.gone(error);
    (this.socket as NodeSocket).terminate();
  };

  /** The connection is gone: the core aborts or parks the port's sessions, then detaches us. */
  private gone(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    const listener = this.onclose;
    this.heartbeat?.stop();
    if (listener !== undefined) listener(reason);
    this.teardown();
  }

  private where(): string {
    return this.port === undefined ? "" : `port "${this.port.name}": `;
  }
}

function closeError(code: number, reason: string): SessionError {
  return new SessionError(`WebSocket closed (code ${code}${reason ? `, "${reason}"` : ""})`);
}
