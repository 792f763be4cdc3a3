/**
 * `${VAR}` and `${VAR:-default}` in string values, so one pipeline file serves every environment.
 * `:-` uses the default when VAR is unset or empty (shell semantics); the default may itself hold
 * references (`${X:-${Y:-z}}`), resolved only when it is used, as the shell does. `$${` writes a
 * literal `${`. Keys are never interpolated. An unset variable without a default, a malformed or an
 * unclosed reference is an issue naming the path; nothing is ever taken literally by accident.
 */
import { formatPath, safeValue } from './issues.ts'
import type { ConfigIssue } from './types.ts'

export type Env = Readonly<Record<string, string | undefined>>

const inner = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/

/** Interpolates every string value of `value` (a JSON tree); returns the new tree and any issues. */
export function interpolate(value: unknown, env: Env): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = []
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'string') return interpolateString(v, env, path, issues)
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]))
    // fromEntries defines own properties: a "__proto__" key stays a key, never the copy's prototype.
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...path, k])]))
    return v
  }
  return { value: walk(value, []), issues }
}

/** Index of the `}` closing the reference whose body starts at `from`, counting nested `${`; -1 when unclosed. */
function closingBrace(s: string, from: number): number {
  let depth = 0
  for (let i = from; i < s.length; i++) {
    if (s.startsWith('$${', i)) i += 2
    else if (s.startsWith('${', i)) {
      depth++
      i++
    } else if (s[i] === '}') {
      if (depth === 0) return i
      depth--
    }
  }
  return -1
}

function interpolateString(s: string, env: Env, path: (string | number)[], issues: ConfigIssue[]): string {
  if (!s.includes('${')) return s
  const report = (message: string) => issues.push({ path: formatPath(path), value: safeValue(path, s), message })
  const expand = (text: string): string => {
    let out = ''
    let i = 0
    while (i < text.length) {
      if (text.startsWith('$${', i)) {
        out += '${'
        i += 3
        continue
      }
      if (!text.startsWith('${', i)) {
        out += text[i]
        i++
        continue
      }
      const end = closingBrace(text, i + 2)
      if (end === -1) {
        report(`unclosed reference "${text.slice(i)}": a "\${" needs its "}" (write $\${ for a literal \${)`)
        return out + text.slice(i)
      }
      const body = text.slice(i + 2, end)
      out += resolve(body, `\${${body}}`)
      i = end + 1
    }
    return out
  }
  const resolve = (body: string, match: string): string => {
    const m = inner.exec(body)
    if (m === null || m[1] === undefined) {
      report(`invalid reference "${match}": use \${NAME}, \${NAME:-default} or \${NAME:-\${OTHER:-default}}`)
      return match
    }
    const name = m[1]
    const fallback = m[2]
    const set = env[name]
    if (fallback !== undefined) return set === undefined || set === '' ? expand(fallback) : set
    if (set !== undefined) return set
    report(`environment variable ${name} is not set and has no default; set it or write \${${name}:-default}`)
    return match
  }
  return expand(s)
}
