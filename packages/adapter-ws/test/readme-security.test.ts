// The root README's Security example, run as written (only `port: 8080` → port 0): a port name
// taken from a token the client cannot forge. A valid token gets its device's port; a missing,
// forged or bare `?id=` claim is refused (1011) and reported.
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SessionManager } from "psession";
import type { WebSocketServer } from "ws";
import { afterEach, expect, test } from "vitest";
import { sleep, teardown, until } from "./helpers.js";
import { RawPeer } from "./raw-client.js";

afterEach(teardown);

const README = fileURLToPath(new URL("../../../README.md", import.meta.url));

/** The ```ts block of the README's "Security" section, de-indented (it sits in a list item). */
function securityExample(): string {
  const markdown = readFileSync(README, "utf8");
  const section = markdown.slice(markdown.indexOf("\n## Security\n"));
  const block = /^( *)```ts\n([\s\S]*?)^ *```/m.exec(section.slice(0, section.indexOf("\n## ", 1)));
  if (block === null) throw new Error("no ts block in the README's Security section");
  const indent = block[1]!.length;
  return block[2]!
    .split("\n")
    .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
    .join("\n");
}

test("the README's Security example: a signed token names the port; forged, missing or bare claims are refused", async () => {
  const example = securityExample();
  expect(example).toContain("port: 8080");
  const dir = mkdtempSync(join(fileURLToPath(new URL(".", import.meta.url)), ".readme-"));
  try {
    const file = join(dir, "security.ts");
    writeFileSync(file, `${example.replace("port: 8080", 'port: 0, host: "127.0.0.1"')}\nexport { server, wss };\n`);
    const { server, wss } = (await import(pathToFileURL(file).href)) as {
      server: SessionManager;
      wss: WebSocketServer;
    };
    const errors: Error[] = [];
    server.on("error", (e) => void errors.push(e));
    server.handle((_m, session) => ({ port: session.port }));
    try {
      await new Promise<void>((resolve) => (wss.address() ? resolve() : wss.once("listening", () => resolve())));
      const port = (wss.address() as AddressInfo).port;
      const sign = (device: string) =>
        `${device}.${createHmac("sha256", "change me").update(device).digest("base64url")}`;

      const lamp = await RawPeer.connect(port, `/?token=${encodeURIComponent(sign("lamp-7"))}`);
      lamp.send({ sid: 1, hello: true });
      await until(() => lamp.messages.length === 1);
      expect(lamp.messages[0]).toMatchObject({ sid: 1, port: "device:lamp-7" });

      for (const path of ["/?id=lamp-7", "/?token=lamp-7.forged", `/?token=${sign("lamp-7").slice(0, -1)}x`, "/"]) {
        const intruder = await RawPeer.connect(port, path);
        await intruder.closed;
        expect(intruder.close).toEqual({ code: 1011, reason: "connection refused" });
      }
      expect(errors.map((e) => e.message)).toEqual(
        Array.from({ length: 4 }, () => "@psession/ws: connection refused: portName failed (no valid device token)"),
      );
      expect([...server.ports.keys()]).toEqual(["default", "device:lamp-7"]);
      lamp.socket.destroy();
      await sleep(10);
    } finally {
      server.clear();
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
