/**
 * After an undecodable frame, this many of the connection's next frames are decoded without stack
 * traces (see `stackless`). Peers that send valid frames never pay for it.
 */
export const SUSPECT_FRAMES = 1024;

/**
 * `fn(arg)` with V8's stack capture off. Most of what an undecodable frame costs is capturing
 * stacks (the parser's SyntaxError, then our DECODE_FAILED), and those stacks only show this
 * socket listener: a peer flooding garbage costs half as much without them.
 */
export function stackless<A, R>(fn: (arg: A) => R, arg: A): R {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn(arg);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
