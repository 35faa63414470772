import {
  DEFAULT_MAX_FRAME_BYTES,
  maxFrameBytesSetting,
  type Role,
  type Serializer,
  type SessionManager,
} from "psession";
import type { MqttClientLike } from "./client.js";
import { Correlation, newTag } from "./correlation.js";
import { DEFAULT_MAX_PORTS, DEFAULT_WINDOW, type MqttAttachOptions } from "./options.js";
import { jsonSerializer } from "./serializer.js";
import { TopicTemplate } from "./topic-template.js";

const LABEL = "@psession/mqtt";

/** The option names that are ours; the rest are the core's port options, handed to every port. */
const OWN_OPTIONS = [
  "publish",
  "subscribe",
  "status",
  "qos",
  "inbox",
  "window",
  "maxFrameBytes",
  "serializer",
  "port",
  "noDelay",
  "maxPorts",
];

/** `attach()`'s options, checked once: every mistake fails here, before anything is subscribed. */
export interface Settings {
  pub: TopicTemplate;
  sub: TopicTemplate;
  inbox: TopicTemplate | undefined;
  status: TopicTemplate | undefined;
  /** The templates have `{port}`: a controller, with a port per device. */
  templated: boolean;
  fixedName: string;
  qos: 0 | 1 | 2;
  v5: boolean;
  window: number;
  maxFrameBytes: number;
  maxPorts: number;
  serializer: Serializer;
  noDelay: boolean;
  role: Role;
  correlation: Correlation;
  portOptions: Record<string, unknown>;
}

export function readSettings(manager: SessionManager, client: MqttClientLike, options: MqttAttachOptions): Settings {
  if (
    client === null ||
    typeof client !== "object" ||
    typeof client.publish !== "function" ||
    typeof client.subscribe !== "function"
  ) {
    throw new TypeError(`${LABEL}: attach() takes an MQTT.js client (mqtt.connect(...))`);
  }
  if (manager === null || typeof manager !== "object") throw new TypeError(`${LABEL}: attach() takes a SessionManager`);
  const pub = new TopicTemplate(options.publish, "publish");
  const sub = new TopicTemplate(options.subscribe, "subscribe");
  const status = options.status === undefined ? undefined : new TopicTemplate(options.status, "status");
  const templated = pub.templated;
  for (const t of [sub, status]) {
    if (t !== undefined && t.templated !== templated) {
      throw new TypeError(
        `${LABEL}: publish, subscribe and status must all have {port} (a controller) or none (a device)`,
      );
    }
  }
  if (pub.share !== "") throw new TypeError(`${LABEL}: publish cannot be a $share/ topic`);
  if (status?.share) throw new TypeError(`${LABEL}: status cannot be a $share/ topic`);
  if (pub.topic === sub.topic) {
    throw new TypeError(`${LABEL}: publish and subscribe must differ, or this side would read its own messages`);
  }
  const correlation = new Correlation(newTag());
  // A shared subscription balances every message: this instance also needs a topic of its own.
  const inboxTopic = options.inbox ?? (sub.share !== "" ? `${sub.topic}/${correlation.tag}` : undefined);
  const inbox = inboxTopic === undefined ? undefined : new TopicTemplate(inboxTopic, "inbox");
  if (inbox !== undefined && (inbox.share !== "" || inbox.templated !== templated)) {
    throw new TypeError(`${LABEL}: inbox must be a plain topic, with {port} exactly when publish has it`);
  }
  const fixedName = options.port ?? "default";
  if (typeof fixedName !== "string") throw new TypeError(`${LABEL}: port must be a string`);
  const qos = options.qos ?? 1;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`${LABEL}: qos must be 0, 1 or 2`);
  const window = options.window ?? DEFAULT_WINDOW;
  if (!(window >= 1)) throw new RangeError(`${LABEL}: window must be at least 1 (Infinity for none)`);
  const maxPorts = options.maxPorts ?? DEFAULT_MAX_PORTS;
  if (!(maxPorts >= 1)) throw new RangeError(`${LABEL}: maxPorts must be at least 1`);
  // A controller opens like a client, a device accepts like a server; a `role` option (kept in
  // the port options) overrides. Answers are told from requests by sid parity: a role it must be.
  const role = "role" in options ? options.role : templated ? "client" : "server";
  if (role !== "client" && role !== "server") {
    throw new TypeError(`${LABEL}: role must be "client" or "server" (role-less ports are not supported over MQTT)`);
  }
  const portOptions: Record<string, unknown> = { ...options };
  for (const key of OWN_OPTIONS) delete portOptions[key];
  return {
    pub,
    sub,
    inbox,
    status,
    templated,
    fixedName,
    qos,
    v5: client.options?.protocolVersion === 5,
    window,
    maxFrameBytes: maxFrameBytesSetting(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, LABEL),
    maxPorts,
    serializer: options.serializer ?? jsonSerializer,
    noDelay: options.noDelay !== false,
    role,
    correlation,
    portOptions,
  };
}
