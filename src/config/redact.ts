/**
 * Secret redaction for anything that leaves the process (toJson, error messages, issue values):
 * passwords, passwords inside URLs, `kafka.sasl.jaas.config`, and any key named like a secret.
 */

import { REDACTED, redactUrlCredentials } from '../secrets.ts'

export { REDACTED }

const secretKeyPattern = /password|passwd|secret|token|jaas|private[._-]?key/i

/** True when a key names a secret (password, *secret*, *token*, kafka.sasl.jaas.config ...). */
export function isSecretKey(key: string): boolean {
  return secretKeyPattern.test(key)
}

/** Replaces the password of a `scheme://user:password@host` URL inside `s` with ***. */
export const redactUrl: (s: string) => string = redactUrlCredentials

/** A deep copy of `value` with secrets replaced by ***; non-secret data is unchanged. */
export function redactSecrets<T>(value: T): T {
  return redactValue(value) as T
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactUrl(value)
  if (Array.isArray(value)) return value.map(redactValue)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactValue(v)
    }
    return out
  }
  return value
}
