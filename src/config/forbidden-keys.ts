/**
 * `__proto__`, `constructor` and `prototype` are never pipeline settings. JSON.parse keeps them as
 * plain keys, but any copy made by assignment turns `"__proto__": {...}` into the prototype of the
 * object, and a setting read from there would be hidden from validation (`enableIdempotence: false`
 * inherited, exactly-once silently off). They are refused as unknown keys, anywhere in the file,
 * before anything else looks at the file.
 */
import { formatPath } from './issues.ts'
import type { ConfigIssue } from './types.ts'

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

/** The JSON tree without forbidden keys, and one issue per forbidden key found (never its value). */
export function withoutForbiddenKeys(value: unknown): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = []
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]))
    if (typeof v !== 'object' || v === null) return v
    const out: Record<string, unknown> = {}
    for (const [k, item] of Object.entries(v)) {
      if (FORBIDDEN.has(k)) {
        issues.push({ path: formatPath([...path, k]), value: undefined, message: `unknown key "${k}": "__proto__", "constructor" and "prototype" are never settings` })
        continue
      }
      out[k] = walk(item, [...path, k])
    }
    return out
  }
  return { value: walk(value, []), issues }
}
