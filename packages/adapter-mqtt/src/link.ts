import {
  attach as attachTransport,
  SessionAbortError,
  SessionChannelError,
  SessionError,
  SessionInvalidError,
  type Port,
  type Role,
  type Session,
  type SessionManager,
} from "psession";
import { setNoDelay, type InboundPacket, type MqttClientLike, type PublishProperties } from "./client.js";
import type { MqttAttachOptions } from "./options.js";
import { Outbox, type Outgoing } from "./outbox.js";
import { PortTransport, type PortLink } from "./port-transport.js";
import { readSettings, type Settings } from "./settings.js";
import { ONLINE, OFFLINE, parseStatus } from "./status.js";
import { isTopicLevel } from "./topic-template.js";

const hasOwn = Object.prototype.hasOwnProperty;
const utf8 = new TextEncoder();
/** The core's cancel notice field (docs/protocol.md). */
const CANCEL = "$cancel";

type Message = Record<string, unknown>;

/** The start of an inbound report, built only when there is one to make. */
const where = (topic: string): string => `payload on ${topic}`;

/** One channel object per (client, publish topic), so attaching the same device twice is caught by the core. */
const channels = new WeakMap<object, Map<string, object>>();
function channelOf(client: object, topic: string): object {
  let byTopic = channels.get(client);
  if (byTopic === undefined) channels.set(client, (byTopic = new Map()));
  let channel = byTopic.get(topic);
  if (channel === undefined) byTopic.set(topic, (channel = { client, topic }));
  return channel;
}

/**
 * Everything one `attach(manager, client, options)` made: the subscriptions, the client listeners,
 * one PortTransport per port, the in-flight window. Protocol logic stays in the core; this moves
 * messages between topics and ports.
 */
export class MqttLink implements PortLink {
  readonly ports = new Map<string, PortTransport>();
  /** Devices whose status topic last said "offline". */
  readonly offline = new Set<string>();
  readonly role: Role;
  /** The options, checked. */
  private readonly s: Settings;
  private readonly sidName: string;
  /** Parity of the sids this side allocates (role "client": odd). */
  private readonly ownParity: number;
  private readonly outbox: Outbox;
  /** Requests and replies are never retained: `retain` is left at MQTT.js's default, false. */
  private readonly publishOptions: { qos: 0 | 1 | 2; properties?: PublishProperties };
  private subscribedOnce = false;
  private generation = 0;
  private closed = false;
  /** The last socket error of the client, the cause of the next connection loss. */
  private lastError: Error | undefined = undefined;
  /** The client was ended (`client.end()`): sends fail at once until it connects again. */
  private ended = false;
  /** A device whose one port was destroyed: inbound messages are no longer ours. */
  private dormant = false;
  private readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private offResolver: (() => void) | undefined = undefined;

  constructor(
    readonly manager: SessionManager,
    readonly client: MqttClientLike,
    options: MqttAttachOptions,
  ) {
    const settings = readSettings(manager, client, options);
    this.s = settings;
    this.role = settings.role;
    this.ownParity = this.role === "client" ? 1 : 0;
    this.sidName = manager.sessionIdName;
    this.outbox = new Outbox(settings.window, this.publishQueued);
    this.publishOptions = { qos: this.s.qos };

    client.on("message", this.onMessage);
    client.on("connect", this.onConnect);
    client.on("close", this.onDisconnect);
    client.on("end", this.onEnd);
    client.on("error", this.onClientError);
    manager.on("session:end", this.onSessionEnd);
    if (this.s.v5) manager.on("session:create", this.onSessionCreate);
    this.installResolver();
    if (!this.s.templated) this.ensurePort(this.s.fixedName);
    if (client.connected) this.onConnect(undefined);
  }

  // ---- ports -------------------------------------------------------------------------------

  /** The port for `name`, made (and attached) on first use. Throws for a name the templates cannot carry. */
  ensurePort(name: string): Port {
    const existing = this.ports.get(name);
    if (existing?.port !== undefined) return existing.port;
    if (this.closed) throw new SessionChannelError("CLOSED", "@psession/mqtt: this attachment was closed");
    if (this.s.templated ? !isTopicLevel(name) : name !== this.s.fixedName) {
      throw new SessionInvalidError(
        this.s.templated
          ? `@psession/mqtt: port name ${JSON.stringify(name)} is not one topic level (no "/", "+", "#", not empty, not starting with "$")`
          : `@psession/mqtt: this device attachment has the one port "${this.s.fixedName}"`,
      );
    }
    const taken = this.manager.ports.get(name);
    if (taken?.attached) {
      throw new SessionInvalidError(`@psession/mqtt: port "${name}" is already attached to another transport`);
    }
    const topic = this.s.pub.fill(name);
    const reply = (this.s.inbox ?? this.s.sub).fill(name);
    const transport = this.transport(name, topic, reply, channelOf(this.client, topic));
    this.ports.set(name, transport);
    try {
      transport.port = this.bind(transport);
    } catch (error) {
      this.ports.delete(name);
      throw error;
    }
    this.dormant = false;
    return transport.port;
  }

  /** Lets `manager.createSession("lamp-1")` and `manager.request(...)` make ports the templates name. */
  private installResolver(): void {
    if (!this.s.templated) return;
    const manager = this.manager as SessionManager & {
      addPortResolver?: (resolve: (name: string) => Port | undefined) => () => void;
    };
    // The core's port resolver (psession ≥ the version that has it); without it, use handle.port(name).
    if (typeof manager.addPortResolver !== "function") return;
    this.offResolver = manager.addPortResolver((name) => {
      if (this.closed || !isTopicLevel(name)) return undefined;
      return this.ensurePort(name);
    });
  }

  /** PortLink: the core let go of a transport (port destroyed or re-attached elsewhere). */
  detach(transport: PortTransport): void {
    if (this.ports.get(transport.name) !== transport) return;
    this.ports.delete(transport.name);
    if (channels.get(this.client)?.get(transport.topic) === transport.channel)
      channels.get(this.client)!.delete(transport.topic);
    transport.closed = true;
    this.outbox.fail(new SessionChannelError("CLOSED", `port "${transport.name}" was detached`), transport);
    this.outbox.releaseAll(transport);
    // A device's one port destroyed: psession stops listening, as with a socket whose port is
    // destroyed; subscriptions stay until close(). A controller's ports come back on use.
    if (!this.s.templated) this.dormant = true;
  }

  // ---- connection --------------------------------------------------------------------------

  private readonly onConnect = (connack: { sessionPresent?: boolean } | undefined): void => {
    if (this.closed) return;
    this.ended = false;
    if (this.s.noDelay) setNoDelay(this.client);
    const generation = ++this.generation;
    // The broker kept our subscriptions (persistent session): ready at once.
    if (this.subscribedOnce && connack?.sessionPresent === true && this.client.options.clean === false) {
      this.becomeReady();
      return;
    }
    const topics: Record<string, { qos: 0 | 1 | 2 }> = {};
    topics[this.s.sub.filter()] = { qos: this.s.qos };
    if (this.s.inbox !== undefined) topics[this.s.inbox.filter()] = { qos: this.s.qos };
    if (this.s.status !== undefined && this.s.templated) topics[this.s.status.filter()] = { qos: 1 };
    this.client.subscribe(topics, (error, granted) => {
      if (this.closed || generation !== this.generation) return;
      const refused = granted?.filter((g) => g.qos > 2).map((g) => g.topic) ?? [];
      if (error || refused.length > 0) {
        const reason = error ? error.message : `refused ${refused.join(", ")}`;
        this.manager.report(
          new SessionError(`@psession/mqtt: subscribe failed (${reason}); sends wait until a reconnect subscribes`, {
            cause: error,
          }),
        );
        return;
      }
      this.subscribedOnce = true;
      this.becomeReady();
    });
  };

  private becomeReady(): void {
    if (!this.client.connected) return;
    if (this.s.status !== undefined && !this.s.templated) {
      this.client.publish(this.s.status.topic, ONLINE, { qos: 1, retain: true }, this.reportPublishError);
    }
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.resolve();
    this.outbox.flush();
  }

  /**
   * The connection dropped. With a clean session the broker forgets our subscriptions, so answers
   * to what is in flight are lost: each port with turns in flight moves to a fresh transport and
   * the old one closes, so those attempts fail now (sessions with retries left re-send after the
   * reconnect, the others fail with SessionAbortError) instead of waiting for their timeouts.
   * A persistent session (`clean: false`) keeps them: the broker delivers the answers later.
   */
  private readonly onDisconnect = (): void => {
    this.outbox.ready = false;
    if (this.closed || this.client.options.clean === false) return;
    const cause = this.lastError;
    this.lastError = undefined;
    const detail = cause === undefined ? "" : ` (${cause.message})`;
    this.failInFlight(
      new SessionChannelError("CLOSED", `the connection to the MQTT broker was lost${detail}`, { cause }),
    );
  };

  /** `client.end()`: no reconnect will come, so nothing waits for one. */
  private readonly onEnd = (): void => {
    this.outbox.ready = false;
    if (this.closed) return;
    this.ended = true;
    const reason = new SessionChannelError("NOT_OPEN", "the MQTT client was ended (client.end())");
    this.outbox.fail(reason);
    this.failInFlight(reason);
  };

  private failInFlight(reason: Error): void {
    for (const old of [...this.ports.values()]) {
      if (old.held.size > 0 && old.port !== undefined) this.replace(old, reason);
    }
  }

  private replace(old: PortTransport, reason: Error): void {
    const fresh = this.transport(old.name, old.topic, old.replyTopic, old.channel);
    fresh.routes = old.routes;
    fresh.lastSeen = old.lastSeen;
    this.outbox.move(old, fresh);
    this.outbox.releaseAll(old);
    this.ports.set(old.name, fresh);
    old.shut(reason); // the core fails the attempts that went through `old`; retries are deferred
    fresh.port = this.bind(fresh);
  }

  private transport(name: string, topic: string, reply: string, channel: object): PortTransport {
    const transport = new PortTransport(this, name, topic, reply, this.role, channel, this.s.qos > 0);
    transport.published = (error?: Error) => {
      if (error) {
        const reason = `the broker did not take a publish on ${topic}: ${error.message}`;
        this.manager.report(new SessionChannelError("NOT_OPEN", reason, { cause: error }), transport.port);
      }
    };
    return transport;
  }

  private bind(transport: PortTransport): Port {
    // The role comes from the transport (rule 11); `reconnect`: a dropped connection parks the
    // port for the fresh transport that takes over (see onDisconnect).
    return attachTransport(this.manager, transport, { ...this.s.portOptions, port: transport.name, reconnect: true });
  }

  /**
   * The client's errors. A socket error (ECONNRESET, ECONNREFUSED, …) is the connection dropping or
   * not coming back yet: MQTT.js reconnects, and the error becomes the cause of what fails with the
   * connection. Anything else (a refused CONNACK, a keep-alive timeout, a protocol error) is
   * reported: without it, sends would wait for a connection that cannot come, with no hint why.
   */
  private readonly onClientError = (error: Error): void => {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code === "string" && code.startsWith("E")) {
      this.lastError = error;
      return;
    }
    this.manager.report(
      new SessionChannelError("NOT_OPEN", `MQTT client error: ${error?.message ?? String(error)}`, { cause: error }),
    );
  };

  whenReady(): Promise<void> {
    if (this.outbox.ready) return Promise.resolve();
    if (this.closed)
      return Promise.reject(new SessionChannelError("CLOSED", "@psession/mqtt: this attachment was closed"));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  get isReady(): boolean {
    return this.outbox.ready;
  }

  // ---- outbound ----------------------------------------------------------------------------

  /** PortLink: one message of a port, published now or queued (not connected, window full). */
  send(transport: PortTransport, message: Message, timeout: number | undefined): void | Promise<void> {
    if (transport.closed)
      throw new SessionChannelError("CLOSED", `port "${transport.name}": the MQTT attachment was closed`);
    if (this.offline.has(transport.name)) {
      throw new SessionChannelError("OFFLINE", `device "${transport.name}" is offline (its status topic says so)`);
    }
    if (this.ended) throw new SessionChannelError("NOT_OPEN", `port "${transport.name}": the MQTT client was ended`);
    const sid = message[this.sidName] as number;
    // A turn of a session this side opened waits for an answer: it goes through the window. A
    // cancel notice expects none.
    const own = (sid & 1) === this.ownParity && message[CANCEL] === undefined;
    const payload = this.s.serializer.encode(message);
    if (
      payload.length > this.s.maxFrameBytes ||
      (typeof payload === "string" && payload.length * 3 > this.s.maxFrameBytes)
    ) {
      const bytes = typeof payload === "string" ? utf8.encode(payload).length : payload.length;
      if (bytes > this.s.maxFrameBytes) {
        throw new RangeError(`message of ${bytes} bytes is over maxFrameBytes ${this.s.maxFrameBytes}: not sent`);
      }
    }
    const ms = timeout ?? transport.port?.sessionTimeout ?? 0;
    if (this.outbox.ready && (!own || this.outbox.hasSlot(transport, sid))) {
      this.publish(transport, sid, payload, ms);
      if (own) this.outbox.take(transport, sid);
      return;
    }
    const waiting = new Promise<void>((resolve, reject) => {
      const deadline = ms > 0 && ms !== Infinity ? Date.now() + ms : Infinity;
      this.outbox.enqueue({ transport, sid, own, payload, deadline, resolve, reject, dead: false });
    });
    waiting.catch(() => {}); // a raw caller may ignore it; the core handles it (rule 3)
    return waiting;
  }

  private readonly publishQueued = (item: Outgoing): void => {
    if (item.transport.closed) {
      item.reject(new SessionChannelError("CLOSED", `port "${item.transport.name}" was closed`));
      return;
    }
    if (this.offline.has(item.transport.name)) {
      item.reject(
        new SessionChannelError("OFFLINE", `device "${item.transport.name}" is offline (its status topic says so)`),
      );
      return;
    }
    try {
      // What is left of its timeout becomes its expiry.
      const left = item.deadline === Infinity ? 0 : item.deadline - Date.now();
      this.publish(item.transport, item.sid, item.payload, left);
      item.resolve();
    } catch (error) {
      item.reject(error as Error);
    }
  };

  /** `timeout`: ms this send waits for its answer (0 or Infinity: forever), the MQTT 5 expiry of a request. */
  private publish(transport: PortTransport, sid: number, payload: string | Uint8Array, timeout: number): void {
    let topic = transport.topic;
    // The same options object whenever there are no properties (MQTT.js copies it). MQTT.js spreads
    // these options over its defaults; any key they lack (even an undefined one) sends V8's copy
    // down a slow path, ~1 µs per publish.
    let options = this.publishOptions;
    if (this.s.v5) {
      const route = transport.routes?.get(sid);
      if (route?.topic !== undefined) topic = route.topic;
      let properties: PublishProperties | undefined;
      if ((sid & 1) === this.ownParity) {
        // A turn of a session this side opened: where to answer, what to echo, and when it is
        // stale (a command nobody took within its timeout is dropped by the broker, not delivered late).
        properties = { responseTopic: transport.replyTopic, correlationData: this.s.correlation.encode(sid) };
        if (timeout > 0 && timeout !== Infinity) properties.messageExpiryInterval = Math.ceil(timeout / 1000);
      } else {
        // An answer: echo the requester's correlationData; name this instance's inbox only when it
        // has one (shared subscriptions). Every property costs MQTT.js an option spread (~1 µs).
        if (route?.correlation !== undefined) properties = { correlationData: route.correlation };
        if (this.s.inbox !== undefined) (properties ??= {}).responseTopic = transport.replyTopic;
      }
      if (properties !== undefined) options = { qos: this.s.qos, properties };
    }
    // No promise per publish (it cost ~7% of a QoS 1 round trip): what fails synchronously throws
    // (the attempt fails at once); what the broker refuses later (an MQTT 5 PUBACK reason code) is
    // reported with the port, and that attempt ends by its timeout or retry.
    if (this.ended || this.client.disconnecting === true) {
      throw new SessionChannelError("NOT_OPEN", `port "${transport.name}": the MQTT client is disconnecting`);
    }
    this.client.publish(topic, payload, options, transport.published);
    transport.bytesSent += payload.length;
  }

  private readonly reportPublishError = (error?: Error): void => {
    if (error)
      this.manager.report(
        new SessionError(`@psession/mqtt: status publish failed: ${error.message}`, { cause: error }),
      );
  };

  // ---- inbound -----------------------------------------------------------------------------

  /** The client's one "message" listener for this attachment: never throws. */
  private readonly onMessage = (topic: string, payload: Uint8Array, packet: InboundPacket | undefined): void => {
    if (this.closed || this.dormant) return;
    let name: string | undefined;
    try {
      if (this.s.status !== undefined && this.s.templated) {
        name = this.s.status.match(topic, this.s.fixedName);
        if (name !== undefined) {
          this.onStatus(name, payload, packet?.retain === true);
          return;
        }
      }
      name = this.s.sub.match(topic, this.s.fixedName) ?? this.s.inbox?.match(topic, this.s.fixedName);
      if (name === undefined) return; // another subscription of the same client
      this.receive(name, topic, payload, packet);
    } catch (error) {
      this.manager.report(error, name === undefined ? undefined : this.ports.get(name)?.port);
    }
  };

  private receive(name: string, topic: string, payload: Uint8Array, packet: InboundPacket | undefined): void {
    let transport = this.ports.get(name);
    if (!(payload instanceof Uint8Array)) payload = utf8.encode(String(payload));
    if (payload.length > this.s.maxFrameBytes) {
      this.manager.report(
        new SessionChannelError(
          "FRAME_TOO_LARGE",
          `${where(topic)}: payload of ${payload.length} bytes is over maxFrameBytes ${this.s.maxFrameBytes}: dropped`,
        ),
        transport?.port,
      );
      return;
    }
    let message: unknown;
    try {
      message = this.s.serializer.decode(payload);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.manager.report(
        new SessionChannelError(
          "DECODE_FAILED",
          `${where(topic)}: payload dropped, the serializer could not decode it (${reason})`,
          { cause: error },
        ),
        transport?.port,
      );
      return;
    }
    const isObject = typeof message === "object" && message !== null && !Array.isArray(message);
    let sid = isObject && hasOwn.call(message, this.sidName) ? (message as Message)[this.sidName] : undefined;
    const properties = this.s.v5 ? packet?.properties : undefined;
    const correlation = properties?.correlationData;
    if (correlation !== undefined) {
      const ours = this.s.correlation.decode(correlation);
      if (ours !== undefined) {
        // A plain MQTT 5 responder echoes correlationData and may know nothing of sids.
        if (isObject && sid === undefined) (message as Message)[this.sidName] = sid = ours;
        else if (sid !== ours) {
          this.manager.report(
            new SessionInvalidError(
              `${where(topic)}: sid ${String(sid)} does not match its correlationData (sid ${ours}): dropped`,
            ),
            transport?.port,
          );
          return;
        }
      } else if (!(typeof sid === "number" && (sid & 1) !== this.ownParity)) {
        // Only a session the peer opened carries the peer's own correlation.
        this.manager.report(
          new SessionInvalidError(`${where(topic)}: correlationData is not ours, and no sid of the peer's: dropped`),
          transport?.port,
        );
        return;
      }
    }
    const session = typeof sid === "number" && Number.isInteger(sid) && sid > 0;
    if (packet?.retain === true && session) {
      // A retained command or reply is replayed on every subscribe ("ghost switching"): never act on one.
      this.manager.report(
        new SessionInvalidError(`${where(topic)}: a retained session message was ignored`),
        transport?.port,
      );
      return;
    }
    const own = session && ((sid as number) & 1) === this.ownParity;
    if (transport === undefined) {
      if (own) {
        this.manager.report(
          new SessionInvalidError(`${where(topic)}: a reply for port "${name}", which has no sessions here: dropped`),
        );
        return;
      }
      const taken = this.manager.ports.get(name);
      if (taken?.attached) {
        this.manager.report(
          new SessionInvalidError(`${where(topic)}: port "${name}" is attached to another transport: dropped`),
        );
        return;
      }
      if (this.ports.size >= this.s.maxPorts) {
        // Anyone may publish under any name the templates match: ports made that way are bounded.
        this.manager.report(
          new SessionInvalidError(
            `${where(topic)}: ${this.ports.size} ports already (maxPorts): a new device "${name}" was refused`,
          ),
        );
        return;
      }
      this.ensurePort(name);
      transport = this.ports.get(name)!;
    }
    // A live message says its device is back; without a status topic the set is always empty.
    if (this.offline.size > 0 && packet?.retain !== true) this.offline.delete(name);
    if (session) {
      if (properties !== undefined) this.route(transport, sid as number, own, properties.responseTopic, correlation);
      if (own) this.outbox.release(transport, sid as number);
    }
    transport.bytesReceived += payload.length;
    transport.deliver(message);
  }

  /** MQTT 5: remember where the next message of this session goes (pinned instance) and what to echo. */
  private route(
    transport: PortTransport,
    sid: number,
    own: boolean,
    responseTopic: unknown,
    correlation: Uint8Array | undefined,
  ): void {
    let topic = typeof responseTopic === "string" && responseTopic !== transport.topic ? responseTopic : undefined;
    if (topic !== undefined && (topic === "" || topic.includes("+") || topic.includes("#"))) {
      this.manager.report(
        new SessionInvalidError(
          `port "${transport.name}": responseTopic ${JSON.stringify(topic)} is not a topic: ignored`,
        ),
        transport.port,
      );
      topic = undefined;
    }
    const keep = own ? undefined : correlation;
    if (topic === undefined && keep === undefined) {
      transport.routes?.delete(sid);
      return;
    }
    (transport.routes ??= new Map()).set(sid, { topic, correlation: keep });
  }

  private onStatus(name: string, payload: Uint8Array, retained: boolean): void {
    const online = parseStatus(payload);
    if (online === undefined) {
      if (payload.length === 0)
        this.offline.delete(name); // a cleared retained status: unknown again
      else if (!retained)
        this.manager.report(
          new SessionInvalidError(`status of "${name}": not "online" or "offline": ignored`),
          this.ports.get(name)?.port,
        );
      return;
    }
    if (online) {
      this.offline.delete(name);
      const transport = this.ports.get(name);
      if (transport !== undefined && !retained) transport.lastSeen = Date.now();
      return;
    }
    this.offline.add(name);
    const port = this.ports.get(name)?.port;
    if (port !== undefined) {
      const cause = new SessionChannelError(
        "OFFLINE",
        `device "${name}" is offline (its status topic says "${OFFLINE}")`,
      );
      port.destroy(new SessionAbortError(`device "${name}" went offline`, { cause }));
    }
  }

  // ---- sessions ----------------------------------------------------------------------------

  private readonly onSessionEnd = (session: Session): void => {
    const transport = this.ports.get(session.port);
    if (transport === undefined) return;
    transport.routes?.delete(session.id);
    if (!session.remote) {
      this.outbox.cancel(transport, session.id);
      this.outbox.release(transport, session.id);
    }
  };

  /** A new local session may reuse the sid of an old one: it starts on the default topic. */
  private readonly onSessionCreate = (session: Session): void => {
    if (!session.remote) this.ports.get(session.port)?.routes?.delete(session.id);
  };

  // ---- teardown ----------------------------------------------------------------------------

  /** Detaches from the client and the manager; every port is destroyed (pending sessions abort). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.offResolver?.();
    const client = this.client;
    client.removeListener("message", this.onMessage);
    client.removeListener("connect", this.onConnect);
    client.removeListener("close", this.onDisconnect);
    client.removeListener("end", this.onEnd);
    client.removeListener("error", this.onClientError);
    this.manager.off("session:end", this.onSessionEnd);
    this.manager.off("session:create", this.onSessionCreate);
    const error = new SessionChannelError("CLOSED", "@psession/mqtt: the MQTT attachment was closed");
    this.outbox.fail(error);
    for (const transport of [...this.ports.values()]) {
      transport.closed = true;
      transport.port?.destroy(
        new SessionAbortError(`port "${transport.name}": the MQTT attachment was closed`, { cause: error }),
      );
    }
    this.ports.clear();
    for (const w of this.readyWaiters) w.reject(error);
    this.readyWaiters = [];
    if (!client.connected) return;
    const filters = [this.s.sub.filter()];
    if (this.s.inbox !== undefined) filters.push(this.s.inbox.filter());
    if (this.s.status !== undefined && this.s.templated) filters.push(this.s.status.filter());
    const steps: Promise<void>[] = [new Promise((resolve) => client.unsubscribe(filters, () => resolve()))];
    if (this.s.status !== undefined && !this.s.templated) {
      steps.push(
        new Promise((resolve) =>
          client.publish(this.s.status!.topic, OFFLINE, { qos: 1, retain: true }, () => resolve()),
        ),
      );
    }
    await Promise.all(steps);
  }
}
