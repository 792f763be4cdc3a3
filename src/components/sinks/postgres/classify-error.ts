/**
 * Maps whatever pg, PGlite or the network threw into the SluiceError family. Retry and DLQ decisions
 * read only `code` and `retryable`, so this file is the single place that decides what a database
 * failure means: a bad row (split and reject it), a transient failure (retry the batch), or a
 * permanent one. Messages are passed through `redact` so that no password or URL reaches a log.
 */
import { redactUrlCredentials } from '../../../secrets.ts'
import { SluiceError, isSluiceError, type ErrorCode } from '../../../errors.ts'

/** Fields pg-protocol's DatabaseError carries (PGlite raises the same shape). */
interface PgErrorFields {
  code?: unknown
  message?: unknown
  column?: unknown
  constraint?: unknown
  table?: unknown
  where?: unknown
  dataType?: unknown
}

function fields(err: unknown): PgErrorFields {
  return typeof err === 'object' && err !== null ? (err as PgErrorFields) : {}
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined
}

/** The SQLSTATE (5 characters) of a server error, or undefined for client and network errors. */
export function sqlState(err: unknown): string | undefined {
  const code = str(fields(err).code)
  // Node system errors have 5-letter codes too (EPIPE, EPERM); no SQLSTATE class starts with E.
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E') ? code : undefined
}

/**
 * True when the database refused a row's values: data exceptions (class 22), integrity violations
 * (class 23: not null, check, foreign key, unique, exclusion) and exceptions raised by triggers (P0001).
 * Those are isolated by splitting the batch and routed to the DLQ, never retried.
 */
export function isDataError(err: unknown): boolean {
  const state = sqlState(err)
  return state !== undefined && (state.startsWith('22') || state.startsWith('23') || state === 'P0001')
}

/**
 * TLS failures (Node / OpenSSL codes): the server's certificate is not trusted or names another
 * host, or the server refused ours. No retry changes a certificate, so these are fatal at once.
 */
const TLS_TRUST = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|ERR_OSSL_)/

/** True for a failure of authentication or trust: a wrong password, pg_hba refusal, an untrusted certificate. */
export function isAuthFailure(err: unknown): boolean {
  const state = sqlState(err)
  if (state !== undefined) return state.startsWith('28')
  const nodeCode = str(fields(err).code)
  if (nodeCode !== undefined && TLS_TRUST.test(nodeCode)) return true
  return isNoTlsServer(err)
}

/** The server answered the SSLRequest with "N": it has no TLS (node-postgres's wording). */
export function isNoTlsServer(err: unknown): boolean {
  return err instanceof Error && /does not support SSL/i.test(err.message)
}

const NODE_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED'])
const LOST = /premature close|connection terminated|connection error|not queryable|client was closed|ended unexpectedly|terminating connection|socket hang up|connection.*closed/i

function codeFor(err: unknown): { code: ErrorCode; retryable?: boolean } {
  if (isAuthFailure(err)) return { code: 'SINK_AUTH' }
  const state = sqlState(err)
  if (state !== undefined) {
    const cls = state.slice(0, 2)
    if (cls === '08' || state === '57P01' || state === '57P02' || state === '57P03' || cls === '53') return { code: 'SINK_UNAVAILABLE' }
    if (state === '40001' || state === '40P01') return { code: 'SINK_CONFLICT' }
    if (state === '57014' || state === '55P03') return { code: 'SINK_TIMEOUT' }
    if (state === '3D000') return { code: 'SINK_UNAVAILABLE', retryable: false }
    if (isDataError(err)) return { code: 'RECORD_COLUMN' }
    if (cls === '42' || cls === '3F') return { code: 'SINK_SCHEMA' }
    if (cls === '58' || cls === 'XX') return { code: 'SINK_UNAVAILABLE' }
    return { code: 'INTERNAL' }
  }
  const nodeCode = str(fields(err).code)
  if (nodeCode === 'ETIMEDOUT') return { code: 'SINK_TIMEOUT' }
  if (nodeCode !== undefined && NODE_UNAVAILABLE.has(nodeCode)) return { code: 'SINK_UNAVAILABLE' }
  const message = err instanceof Error ? err.message : String(err)
  if (/timeout|timed out/i.test(message)) return { code: 'SINK_TIMEOUT' }
  if (LOST.test(message)) return { code: 'SINK_UNAVAILABLE' }
  return { code: 'INTERNAL' }
}

/** Replaces every secret (password, full URL) occurring in `text` by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) if (s.length >= 3) out = out.replaceAll(s, '***')
  // Any URL with inline credentials that slipped through (user:password@host).
  return redactUrlCredentials(out)
}

/**
 * Wraps `err` as a SluiceError: `what` says what Sluice was doing ("writing batch 7 to orders"),
 * the server's message and SQLSTATE follow. SluiceErrors pass through unchanged.
 */
export function classifyError(err: unknown, what: string, secrets: readonly string[] = []): SluiceError {
  if (isSluiceError(err)) return err
  const { code, retryable } = codeFor(err)
  const f = fields(err)
  const state = sqlState(err)
  const message = err instanceof Error ? err.message : String(err)
  const details: Record<string, unknown> = {}
  if (state !== undefined) details.sqlstate = state
  for (const key of ['table', 'column', 'constraint'] as const) {
    const v = str(f[key])
    if (v !== undefined) details[key] = v
  }
  const text = redact(`${what}: ${code === 'RECORD_COLUMN' ? rejectReason(err) : message}${state ? ` (SQLSTATE ${state})` : ''}`, secrets)
  return new SluiceError(code, text, { cause: err, details, ...(retryable === undefined ? {} : { retryable }) })
}

/**
 * A DLQ-ready reason for a refused row: the server message without the offending value, plus the
 * column (from the error or the COPY context) and the constraint when the server named them.
 */
export function rejectReason(err: unknown): string {
  const f = fields(err)
  const raw = err instanceof Error ? err.message : String(err)
  // `invalid input syntax for type integer: "abc"`: the value itself is in the DLQ record already.
  const message = raw.replace(/:\s*"[\s\S]*"\s*$/, '')
  const column = str(f.column) ?? copyColumn(str(f.where))
  const constraint = str(f.constraint)
  const parts = [message]
  if (column !== undefined && !message.includes(`"${column}"`)) parts.push(`column ${column}`)
  if (constraint !== undefined && !message.includes(`"${constraint}"`)) parts.push(`constraint ${constraint}`)
  return parts.join('; ')
}

/** The column named in a COPY error context (`COPY t, line 3, column amount: "x"`). */
export function copyColumn(where: string | undefined): string | undefined {
  if (where === undefined) return undefined
  const m = /COPY [^\n]*?, line \d+, column ([^:\n]+?)(?::|$)/m.exec(where)
  return m?.[1]
}

/** The 1-based input line of a COPY error (`COPY t, line 3 …`), when the server said. */
export function copyLine(err: unknown): number | undefined {
  const where = str(fields(err).where)
  if (where === undefined) return undefined
  const m = /COPY [^\n]*?, line (\d+)/.exec(where)
  return m?.[1] === undefined ? undefined : Number(m[1])
}

/** The column a server error names (error field or COPY context), for RejectedRow details. */
export function errorColumn(err: unknown): string | undefined {
  return str(fields(err).column) ?? copyColumn(str(fields(err).where))
}

/** The constraint a server error names, if any. */
export function errorConstraint(err: unknown): string | undefined {
  return str(fields(err).constraint)
}
