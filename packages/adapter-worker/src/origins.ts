import type { OriginList } from "./types.js";

/** True when `origin` is in `allowed` (an exact origin, a RegExp that matches it, or "*"). */
export function originAllowed(allowed: OriginList, origin: unknown): boolean {
  if (typeof origin !== "string") return false;
  for (let i = 0; i < allowed.length; i++) {
    const entry = allowed[i]!;
    if (entry === "*" || entry === origin) return true;
    if (entry instanceof RegExp && entry.test(origin)) return true;
  }
  return false;
}

/** Validates an `allowedOrigins` option; throws a TypeError. */
export function checkOrigins(value: unknown, label: string): OriginList {
  if (!Array.isArray(value) || value.length === 0)
    throw new TypeError(`${label}: allowedOrigins must be a non-empty array`);
  for (const entry of value) {
    if (typeof entry !== "string" && !(entry instanceof RegExp)) {
      throw new TypeError(`${label}: allowedOrigins holds origins (strings) or RegExps, not ${typeof entry}`);
    }
  }
  return value as OriginList;
}
