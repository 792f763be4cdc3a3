/**
 * Secret scrubbing for text that leaves the process (log lines, DLQ reasons, /status). Messages are
 * written secret-free on purpose; this is the safety net for text Sluice does not control, such as
 * a driver error quoting a connection string.
 */

import { redactUrlCredentials } from '../secrets.ts'

/** Keys whose values are always secrets, whatever their nesting. */
export const SECRET_KEY = /pass(word|wd)?$|secret|token|sasl|credentials?$|api[-_]?key|private[-_]?key|authorization/i

// Values stop at quotes, braces and backslashes so that scrubbing a JSON log line keeps it valid JSON.
const KEY_VALUE = /\b(password|passwd|pwd|secret|token|api[-_]?key|sasl[._]?\w*)("?\s*[=:]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;&)"'{}[\]\\]+)/gi

/** Replaces passwords in `scheme://user:pass@host` URLs and `password=...` style pairs with `***`. */
export function redactText(text: string): string {
  return redactUrlCredentials(text).replace(KEY_VALUE, (_m, key: string, sep: string, value: string) => {
      const q = value.startsWith('"') || value.startsWith("'") ? value.charAt(0) : ''
      return `${key}${sep}${q}***${q}`
    })
}

/**
 * Deep copy of plain objects and arrays with secret-named keys masked and strings scrubbed by
 * redactText. Errors, Buffers and class instances are kept as they are (their serializers run later).
 */
export function redactValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value)
  if (value === null || typeof value !== 'object' || depth > 8) return value
  if (seen.has(value)) return '[Circular]'
  if (Array.isArray(value)) {
    seen.add(value)
    return value.map((v) => redactValue(v, depth + 1, seen))
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  seen.add(value)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined ? '[Redacted]' : redactValue(v, depth + 1, seen)
  }
  return out
}
