/**
 * What a Kafka client failure means. A broker that is down or a connection that dropped is
 * retryable; a refused login, an untrusted or mismatched certificate, a TLS/plaintext mismatch or
 * a refused client certificate is not: retrying cannot fix it, so it is fatal at once and the
 * message names the cause (not the client's "metadata failed 3 times").
 */
import { connect } from 'node:tls'
import { findErrorBy } from '@platformatic/kafka'
import { SluiceError, type ErrorCode } from '../../errors.ts'
import type { KafkaConnection } from './connection.ts'

/** Broker error ids that mean "you may not", not "not now". */
const REFUSED = ['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE']

/** OpenSSL's certificate verification failures as Node reports them (err.code). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED',
  'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
])

type Tree = Error & { code?: unknown; apiId?: unknown; errors?: unknown; cause?: unknown }

/** Every error in the tree of `err` (its `errors` and `cause` chains), depth first. */
function* walk(err: unknown, seen = new Set<unknown>()): Generator<Tree> {
  if (!(err instanceof Error) || seen.has(err)) return
  seen.add(err)
  const e = err as Tree
  yield e
  if (Array.isArray(e.errors)) for (const n of e.errors) yield* walk(n, seen)
  yield* walk(e.cause, seen)
}

/** The permanent cause inside a client error, as one sentence, or undefined when it may be transient. */
export function permanentCause(err: unknown): string | undefined {
  for (const e of walk(err)) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (code === 'PLT_KFK_AUTHENTICATION' || e.apiId === 'SASL_AUTHENTICATION_FAILED') {
      return 'SASL authentication failed: the broker refused the username/password (check credentialId or kafka.sasl.* and kafka.sasl.mechanism)'
    }
    if (typeof e.apiId === 'string' && REFUSED.includes(e.apiId)) return `the broker refused the request: ${e.apiId}`
    if (CERTIFICATE_CODES.has(code)) return `TLS: the broker's certificate is not trusted: ${e.message} (${code}; check kafka.ssl.ca.location${code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? ' and the host names in kafka.bootstrap.servers' : ''})`
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS failed: ${e.message.trim()} (${code})`
    // The client's own "you asked for the impossible": TLS to a plaintext port, plaintext to a TLS port.
    if (code === 'PLT_KFK_USER' && /\bTLS\b/.test(e.message)) return `${e.message.replace(/\.$/, '')} (check kafka.security.protocol)`
  }
  return undefined
}

/**
 * Messages of an error, its nested errors and causes, with the broker's error ids (never options,
 * so never secrets): "Producing messages failed. / ... (MESSAGE_TOO_LARGE)".
 */
export function describeFailure(err: unknown): string {
  const seen = new Set<string>()
  const visit = (e: unknown, depth: number): void => {
    if (depth > 6 || e === null || e === undefined) return
    if (!(e instanceof Error)) {
      seen.add(String(e))
      return
    }
    const t = e as Tree
    const own = typeof t.apiId === 'string' && !e.message.includes(t.apiId) ? `${e.message} (${t.apiId})` : e.message
    if (own.length > 0) seen.add(own)
    if (Array.isArray(t.errors)) for (const n of t.errors.slice(-5)) visit(n, depth + 1)
    visit(t.cause, depth + 1)
  }
  visit(err, 0)
  return [...seen].join(' / ').slice(0, 2000)
}

/**
 * A TLS broker that refuses the handshake after it completed on the client side (TLS 1.3: a missing
 * or untrusted client certificate) only closes the connection, and the client reports "Connection
 * closed". One raw TLS connection with the same options shows the broker's alert. Resolves to the
 * alert's description, or undefined when the probe saw nothing TLS-specific (e.g. a refused TCP connect).
 */
export function probeTls(connection: KafkaConnection, timeoutMs = 3000): Promise<string | undefined> {
  const first = connection.bootstrapBrokers[0]
  if (connection.tls === undefined || first === undefined) return Promise.resolve(undefined)
  const i = first.lastIndexOf(':')
  const host = first.slice(0, i).replace(/^\[|\]$/g, '')
  const port = Number(first.slice(i + 1))
  return new Promise((resolveProbe) => {
    let done = false
    const finish = (v: string | undefined): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolveProbe(v)
    }
    const socket = connect({ ...connection.tls, host, port })
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    // An ApiVersions request header's length prefix: enough to make the broker read, and answer or alert.
    socket.once('secureConnect', () => socket.write(Buffer.from([0, 0, 0, 0])))
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? ''
      if (!(code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || CERTIFICATE_CODES.has(code))) return finish(undefined)
      const alert = /alert ([a-z ]+)/i.exec(e.message)?.[1]?.trim()
      const hint = !connection.clientCertificate && /certificate/i.test(e.message) ? ': the broker wants a client certificate (set kafka.ssl.certificate.location and kafka.ssl.key.location)' : ''
      finish(`TLS: the broker refused the connection (${alert ? `alert "${alert}"` : e.message.trim()})${hint}`)
    })
    socket.once('close', () => finish(undefined))
  })
}

/** Which client failed: the source's (SOURCE_*) or the dead-letter relay's (DLQ_*). */
export type KafkaSide = 'source' | 'dlq'

const CODES: Record<KafkaSide, { unavailable: ErrorCode; refused: ErrorCode }> = {
  source: { unavailable: 'SOURCE_UNAVAILABLE', refused: 'SOURCE_AUTH' },
  dlq: { unavailable: 'DLQ_UNAVAILABLE', refused: 'DLQ_AUTH' },
}

/**
 * Wraps a client failure: SOURCE_AUTH / DLQ_AUTH (not retryable, naming the cause) when it is
 * permanent, SOURCE_UNAVAILABLE / DLQ_UNAVAILABLE (retryable) otherwise. Give `connection` to let a
 * TLS connection that was merely "closed" be probed for the broker's alert.
 */
export async function kafkaFailure(err: unknown, action: string, side: KafkaSide, connection?: KafkaConnection): Promise<SluiceError> {
  if (err instanceof SluiceError) return err
  let cause = permanentCause(err)
  if (cause === undefined && connection?.tls !== undefined && err instanceof Error && findErrorBy(err, 'code', 'PLT_KFK_NETWORK') !== null) {
    cause = await probeTls(connection)
  }
  return kafkaError(err, action, side, cause)
}

/** The synchronous part of kafkaFailure (no probe). */
export function kafkaFailureSync(err: unknown, action: string, side: KafkaSide): SluiceError {
  if (err instanceof SluiceError) return err
  return kafkaError(err, action, side, permanentCause(err))
}

/** The refusal `cause` (from permanentCause or probeTls) as the side's not-retryable error. */
export function kafkaRefused(side: KafkaSide, action: string, cause: string, err?: unknown): SluiceError {
  return new SluiceError(CODES[side].refused, `Kafka ${action} failed: ${cause}`, { ...(err === undefined ? {} : { cause: err }), details: { action } })
}

function kafkaError(err: unknown, action: string, side: KafkaSide, cause: string | undefined): SluiceError {
  if (cause !== undefined) return kafkaRefused(side, action, cause, err)
  return new SluiceError(CODES[side].unavailable, `Kafka ${action} failed: ${describeFailure(err)}`, { cause: err, details: { action } })
}
