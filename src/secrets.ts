/**
 * The one redaction module. Everything that leaves the process (toJson and `validate` output, config
 * issues, error messages, log lines, /status, DLQ reasons) is scrubbed here, with one notion of a
 * secret-like name:
 *
 * - values under a secret-like key are replaced by `***`, at any depth;
 * - the password of a `scheme://user:password@host` URL is replaced, whatever it contains
 *   (a raw `@` included: the password runs to the last `@` before whitespace or a quote);
 * - in free text, `name=value`, `"name": value` and `name: "value"` pairs with a secret-like name
 *   are masked. A bare `name: words` is left alone, so "token: expected a number" or
 *   "SASL: authentication failed" stay readable.
 *
 * Scrubbing never breaks a JSON line: values stop at quotes, braces and backslashes.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '***'

/** Fragments that make any name secret-like, wherever they appear (compared without `.`, `_`, `-`, case). */
const SECRET_FRAGMENTS = ['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'jaas', 'apikey', 'privatekey', 'keypem', 'authorization', 'cookie']

/** Whole words (the last word of a name) that are secrets on their own: `pass`, `pw`, `credentials`. */
const SECRET_LAST_WORDS = new Set(['pass', 'pw', 'credentials'])

/**
 * Typo tolerance: a word this close to one of these (edits, a swap of neighbours counting as one) is
 * still a secret: `pasword`, `passwrod`, `secert`. Short words get none, so `passed`, `taken` or
 * `secure` stay ordinary words.
 */
const TYPO_TARGETS: readonly (readonly [string, number])[] = [
  ['password', 2],
  ['secret', 1],
]

/** The words of a name: split at `.`, `_`, `-`, spaces and camelCase boundaries, lower-cased. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s._\-[\]"']+/)
    .filter((w) => w.length > 0)
}

/**
 * True when `name` looks like it holds a secret: `password`, `PGPASSWORD`, `kafka.sasl.jaas.config`,
 * `clientSecret`, `apiKey`, `credentials`, and misspellings such as `pasword` or `kafka.sasl.pasword`.
 * Names of secrets (`credentialId`) and ordinary keys (`user`, `host`, `topic`) are not.
 */
export function isSecretName(name: string): boolean {
  let known = verdicts.get(name)
  if (known === undefined) {
    known = judgeName(name)
    // Log lines repeat the same few keys: remember them, within bounds.
    if (verdicts.size >= 4096) verdicts.clear()
    verdicts.set(name, known)
  }
  return known
}

const verdicts = new Map<string, boolean>()

function judgeName(name: string): boolean {
  const flat = name.toLowerCase().replace(/[\s._-]/g, '')
  if (SECRET_FRAGMENTS.some((f) => flat.includes(f))) return true
  const words = wordsOf(name)
  const last = words[words.length - 1]
  if (last !== undefined && SECRET_LAST_WORDS.has(last)) return true
  return words.some((w) => TYPO_TARGETS.some(([target, max]) => w.length >= target.length - max && typoDistance(w, target) <= max))
}

/** Edit distance where swapping two neighbouring letters counts as one edit (optimal string alignment). */
function typoDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1)
      const row = d[i]
      if (row) row[j] = v
    }
  }
  return at(a.length, b.length)
}

// scheme://user:password@host — the user stops at `:`, the password runs to the last `@` before
// whitespace or a quote, so a raw `@` (or `/`) inside it is masked too.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s"']*:)([^\s"']*)@/gi

/** Replaces the password of every `scheme://user:password@host` URL inside `text` with ***. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, head: string, pass: string) => (pass.length === 0 ? `${head}@` : `${head}${REDACTED}@`))
}

// A name, an `=` or `:` separator, and a value: a double-quoted JSON string, a single-quoted string
// or a bare run that stops at separators, quotes, braces and backslashes.
const PAIR = /(?<![\w.-])(["']?)([A-Za-z_][\w.-]*)\1(\s*[=:]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;&)"'{}[\]\\]+)/g

/** Scrubs free text: URL credentials, then `name=value` style pairs whose name is secret-like. */
export function redactText(text: string): string {
  return redactPairs(redactUrlCredentials(text))
}

function redactPairs(text: string): string {
  return text.replace(PAIR, (match, q: string, name: string, sep: string, value: string) => {
    const quoted = value.startsWith('"') || value.startsWith("'")
    const assignment = q !== '' || quoted || sep.includes('=')
    if (assignment && isSecretName(name)) {
      const vq = quoted ? value.charAt(0) : ''
      return `${q}${name}${q}${sep}${vq}${REDACTED}${vq}`
    }
    // Not a secret: its value may still carry one (`"msg":"login with password=x"`).
    if (value.length < match.length) {
      const inner = quoted ? `${value.charAt(0)}${redactPairs(value.slice(1, -1))}${value.charAt(value.length - 1)}` : redactPairs(value)
      return `${q}${name}${q}${sep}${inner}`
    }
    return match
  })
}

/**
 * A deep copy of plain objects and arrays with the values of secret-like keys replaced by *** and
 * every string scrubbed by redactText. Empty values stay empty (nothing to hide, and it shows the
 * field is unset). Errors, Buffers and class instances are kept as they are; their serializers
 * run later and the finished text is scrubbed again.
 */
export function redactSecrets<T>(value: T): T {
  return redactDeep(value, 0, new WeakSet()) as T
}

function redactDeep(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value)
  if (value === null || typeof value !== 'object' || depth > 16) return value
  if (seen.has(value)) return '[Circular]'
  if (Array.isArray(value)) {
    seen.add(value)
    return value.map((v) => redactDeep(v, depth + 1, seen))
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  seen.add(value)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    const masked = isSecretName(k) && v !== undefined && v !== null && v !== ''
    // defineProperty: a key named __proto__ stays an own property of the copy.
    Object.defineProperty(out, k, { value: masked ? REDACTED : redactDeep(v, depth + 1, seen), enumerable: true, writable: true, configurable: true })
  }
  return out
}
