/** The placeholder for the one topic level that names a port. */
export const PORT = "{port}";

/**
 * A topic template: a topic with at most one `{port}` level. Matching an inbound topic is two
 * string compares (prefix and suffix), not a split, since it runs for every message.
 */
export class TopicTemplate {
  /** The template as given, `$share/<group>/` included. */
  readonly source: string;
  /** `$share/<group>/` when the template is a shared subscription, else "". */
  readonly share: string;
  /** The topic without the share prefix. */
  readonly topic: string;
  /** True when the template has a `{port}` level. */
  readonly templated: boolean;
  private readonly prefix: string;
  private readonly suffix: string;

  constructor(source: string, what: string) {
    if (typeof source !== "string" || source === "")
      throw new TypeError(`@psession/mqtt: ${what} must be a non-empty topic`);
    this.source = source;
    let topic = source;
    let share = "";
    if (source.startsWith("$share/")) {
      const at = source.indexOf("/", 7);
      if (at <= 7 || at === source.length - 1)
        throw new TypeError(`@psession/mqtt: ${what} "${source}" is not $share/<group>/<topic>`);
      share = source.slice(0, at + 1);
      topic = source.slice(at + 1);
    }
    this.share = share;
    this.topic = topic;
    const levels = topic.split("/");
    const at = levels.indexOf(PORT);
    if (at !== levels.lastIndexOf(PORT))
      throw new TypeError(`@psession/mqtt: ${what} "${source}" has more than one {port}`);
    for (const level of levels) {
      if (level !== PORT && (level.includes("{") || level.includes("+") || level.includes("#"))) {
        throw new TypeError(
          `@psession/mqtt: ${what} "${source}": write {port} for the one level that names a port; no other wildcards`,
        );
      }
    }
    this.templated = at !== -1;
    const index = topic.indexOf(PORT);
    this.prefix = this.templated ? topic.slice(0, index) : topic;
    this.suffix = this.templated ? topic.slice(index + PORT.length) : "";
  }

  /** The topic for one port. */
  fill(port: string): string {
    return this.templated ? this.prefix + port + this.suffix : this.topic;
  }

  /** The subscription filter: `+` for `{port}`, with the share prefix. */
  filter(): string {
    return this.share + (this.templated ? `${this.prefix}+${this.suffix}` : this.topic);
  }

  /**
   * The port an inbound topic names; `fixedPort` when the template has no `{port}` and the topic
   * is the template's; undefined when the topic is not this template's.
   */
  match(topic: string, fixedPort: string): string | undefined {
    if (!this.templated) return topic === this.topic ? fixedPort : undefined;
    const { prefix, suffix } = this;
    const end = topic.length - suffix.length;
    if (end <= prefix.length || !topic.startsWith(prefix) || !topic.endsWith(suffix)) return undefined;
    const name = topic.slice(prefix.length, end);
    return name.includes("/") ? undefined : name;
  }
}

/** A port name usable as one topic level: not empty, no `/`, `+`, `#` or NUL, not starting with `$`. */
export function isTopicLevel(name: unknown): name is string {
  if (typeof name !== "string" || name === "" || name.length > 1024 || name.charCodeAt(0) === 36 /* $ */) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 47 /* / */ || c === 43 /* + */ || c === 35 /* # */ || c === 0) return false;
  }
  return true;
}
