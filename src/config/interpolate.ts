/**
 * `${VAR}` and `${VAR:-default}` in string values, so one pipeline file serves every environment.
 * `:-` uses the default when VAR is unset or empty (shell semantics); `$${` writes a literal `${`.
 * Keys are never interpolated. An unset variable without a default is an issue naming the path.
 */
import { formatPath, safeValue } from './issues.ts'
import type { ConfigIssue } from './types.ts'

export type Env = Readonly<Record<string, string | undefined>>

const reference = /\$\$\{|\$\{([^}]*)\}/g
const inner = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/

/** Interpolates every string value of `value` (a JSON tree); returns the new tree and any issues. */
export function interpolate(value: unknown, env: Env): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = []
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'string') return interpolateString(v, env, path, issues)
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]))
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {}
      for (const [k, item] of Object.entries(v)) out[k] = walk(item, [...path, k])
      return out
    }
    return v
  }
  return { value: walk(value, []), issues }
}

function interpolateString(s: string, env: Env, path: (string | number)[], issues: ConfigIssue[]): string {
  if (!s.includes('${')) return s
  return s.replace(reference, (match, body: string | undefined) => {
    if (body === undefined) return '${'
    const m = inner.exec(body)
    if (m === null || m[1] === undefined) {
      issues.push({ path: formatPath(path), value: safeValue(path, s), message: `invalid reference "${match}": use \${NAME} or \${NAME:-default}` })
      return match
    }
    const name = m[1]
    const fallback = m[2]
    const set = env[name]
    if (fallback !== undefined) return set === undefined || set === '' ? fallback : set
    if (set !== undefined) return set
    issues.push({
      path: formatPath(path),
      value: safeValue(path, s),
      message: `environment variable ${name} is not set and has no default; set it or write \${${name}:-default}`,
    })
    return match
  })
}
