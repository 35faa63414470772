export { attach } from "./attach.js";
export type { MqttAttachment } from "./attach.js";
export type { MqttAttachOptions } from "./options.js";
export { DEFAULT_WINDOW } from "./options.js";
export type { InboundPacket, MqttClientLike, PublishProperties } from "./client.js";
export { jsonSerializer } from "./serializer.js";
export type { Serializer } from "psession";
export { lastWill, parseStatus } from "./status.js";
