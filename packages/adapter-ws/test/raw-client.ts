// WebSocket clients written by hand over node:net, for the hostile-peer tests: the HTTP upgrade,
// then whatever bytes the test wants (masked frames, half a header, garbage).
import { randomBytes } from "node:crypto";
import net from "node:net";

/**
 * Opens a TCP connection to `port` and completes the WebSocket handshake on `path`. The socket
 * comes back paused, with whatever followed the handshake still in it: `resume()` to read.
 */
export async function rawUpgrade(port: number, path = "/"): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.off("data", onData);
      if (!head.startsWith("HTTP/1.1 101")) reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
      else {
        // Bytes after the response head are frames (a close frame may come at once): paused, they
        // wait in the socket for the caller's reader.
        socket.pause();
        const rest = Buffer.from(head.slice(end + 4), "latin1");
        if (rest.length > 0) socket.unshift(rest);
        resolve();
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("closed during the upgrade")));
  });
  return socket;
}

/** One masked client frame (`opcode` 1 text, 2 binary), as a client must send it. */
export function clientFrame(payload: string | Buffer, opcode = 1): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const mask = randomBytes(4);
  const length = body.length;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.alloc(head + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  mask.copy(frame, head);
  for (let i = 0; i < length; i++) frame[head + 4 + i] = body[i]! ^ mask[i & 3]!;
  return frame;
}

/** Server frames (unmasked) in `bytes`, decoded as far as they are complete; returns the rest. */
export function serverFrames(bytes: Buffer, out: { opcode: number; payload: Buffer }[]): Buffer {
  let at = 0;
  for (;;) {
    if (bytes.length - at < 2) break;
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let head = 2;
    if (length === 126) {
      if (bytes.length - at < 4) break;
      length = bytes.readUInt16BE(at + 2);
      head = 4;
    } else if (length === 127) {
      if (bytes.length - at < 10) break;
      length = Number(bytes.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (bytes.length - at < head + length) break;
    out.push({ opcode, payload: bytes.subarray(at + head, at + head + length) });
    at += head + length;
  }
  return bytes.subarray(at);
}

/**
 * A raw WebSocket peer that records what the server sends: JSON text frames, and its close frame
 * (answered, so that the server closes the connection).
 */
export class RawPeer {
  /** Text frames, parsed as JSON. */
  readonly messages: Record<string, unknown>[] = [];
  close: { code: number; reason: string } | undefined = undefined;
  readonly closed: Promise<void>;
  private rest: Buffer = Buffer.alloc(0);

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => {
      const frames: { opcode: number; payload: Buffer }[] = [];
      this.rest = serverFrames(Buffer.concat([this.rest, chunk]), frames);
      for (const { opcode, payload } of frames) {
        if (opcode === 1) this.messages.push(JSON.parse(payload.toString()));
        else if (opcode === 8) {
          this.close = {
            code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
            reason: payload.subarray(2).toString(),
          };
          // Answer it, as every client does: the server then closes the TCP connection.
          socket.write(clientFrame(Buffer.from(payload), 8));
        }
      }
    });
    socket.resume();
  }

  static async connect(port: number, path = "/"): Promise<RawPeer> {
    return new RawPeer(await rawUpgrade(port, path));
  }

  /** Sends a text frame: a value as JSON, or a string as it is. */
  send(value: unknown): void {
    this.socket.write(clientFrame(typeof value === "string" ? value : JSON.stringify(value)));
  }
}
