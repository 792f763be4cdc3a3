/**
 * Turns zod issues into ConfigIssues: a dotted path (`extract.connectionParams["kafka.bootstrap.servers"]`),
 * the value found there (redacted when secret), a message saying what is allowed, and a suggestion
 * for unknown keys.
 */
import type * as z from 'zod'
import { knownKeysOf } from './lenient.ts'
import { SluiceError } from '../errors.ts'
import { REDACTED, isSecretName, redactSecrets } from '../secrets.ts'
import { didYouMean } from './suggest.ts'
import type { ConfigIssue } from './types.ts'

type PathKey = PropertyKey

/** Dotted JSON path: a.b[0]["kafka.bootstrap.servers"]. */
export function formatPath(path: readonly PathKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

/** The value at `path` in `input`, and whether the key exists at all. */
export function valueAt(input: unknown, path: readonly PathKey[]): { present: boolean; value: unknown } {
  let cur: unknown = input
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || typeof key === 'symbol' || !Object.hasOwn(cur, key)) return { present: false, value: undefined }
    cur = (cur as Record<string | number, unknown>)[key]
  }
  return { present: true, value: cur }
}

/** The issue value, redacted when the path names a secret or the value holds one. */
export function safeValue(path: readonly PathKey[], value: unknown): unknown {
  if (value !== undefined && path.some((k) => typeof k === 'string' && isSecretName(k))) return REDACTED
  return redactSecrets(value)
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`)

/** Per-parse error map: messages for zod's built-in issues, phrased as what is allowed. */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? `required (${article(iss.expected)})` : `must be ${article(iss.expected)}`
    case 'invalid_value':
      return `must be ${iss.values.map((v) => JSON.stringify(v)).join(' or ')}`
    case 'too_small':
      return iss.origin === 'array' ? `must have at least ${iss.minimum} item(s)` : `must be at least ${iss.minimum}${iss.origin === 'string' ? ' character(s)' : ''}`
    case 'too_big':
      return iss.origin === 'array' ? `must have at most ${iss.maximum} item(s)` : `must be at most ${iss.maximum}${iss.origin === 'string' ? ' character(s)' : ''}`
    default:
      return undefined
  }
}

/** Converts zod issues for `input` into ConfigIssues (one per unknown key), without duplicates. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = []
  const seen = new Set<string>()
  // An unknown key is reported by name only: its value means nothing to Sluice and may be a
  // mistyped secret ("pasword": "...").
  const push = (path: readonly PathKey[], message: string, suggestion?: string, unknownKey = false) => {
    const dotted = formatPath(path)
    const id = `${dotted}\u0000${message}`
    if (seen.has(id)) return
    seen.add(id)
    const at = valueAt(input, path)
    let text = message
    if (!at.present && !/^required/.test(message)) text = `required: ${message}`
    const issue: ConfigIssue = { path: dotted, value: unknownKey ? undefined : safeValue(path, at.value), message: text }
    if (suggestion !== undefined) issue.suggestion = suggestion
    out.push(issue)
  }
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeysOf(iss.keys).filter((k) => k !== '$schema')
      for (const key of iss.keys) {
        push([...iss.path, key], `unknown key "${key}"; allowed keys: ${known.join(', ')}`, didYouMean(key, known), true)
      }
      continue
    }
    const suggestion = iss.code === 'custom' && typeof iss.params?.['suggestion'] === 'string' ? iss.params['suggestion'] : undefined
    push(iss.path, iss.message, suggestion, iss.code === 'custom' && iss.params?.['unknownKey'] === true)
  }
  return out
}

/** One line per issue: `path: message (got value); suggestion`. */
export function formatIssue(issue: ConfigIssue): string {
  const got = issue.value === undefined ? '' : ` (got ${JSON.stringify(issue.value)})`
  return `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}${got}${issue.suggestion ? `; ${issue.suggestion}` : ''}`
}

/** A CONFIG_INVALID error listing the issues (message shows up to five; details carry all). */
export function configInvalid(issues: ConfigIssue[], file?: string): SluiceError {
  const head = `${file ?? 'pipeline config'} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'})`
  const lines = issues.slice(0, 5).map((i) => `  ${formatIssue(i)}`)
  if (issues.length > 5) lines.push(`  ... and ${issues.length - 5} more`)
  return new SluiceError('CONFIG_INVALID', [head, ...lines].join('\n'), { details: { issues, ...(file ? { file } : {}) } })
}
