/**
 * The one error family of Sluice. Every failure that crosses a module boundary is a SluiceError
 * with a stable `code` and a `retryable` flag: retry, circuit-breaker and DLQ decisions read only
 * those two fields, never the message text. Codes are documented in docs/errors.md (a test
 * keeps the list and the document in sync).
 */

/** Every error code, with whether it is retryable and a one-line meaning (mirrored in docs/errors.md). */
export const errorCatalog = {
  CONFIG_INVALID: { retryable: false, doc: 'The pipeline file failed validation; details list every problem.' },
  CONFIG_UNREADABLE: { retryable: false, doc: 'The pipeline file could not be read or is not JSON.' },
  CREDENTIAL_MISSING: { retryable: false, doc: 'A credentialId could not be resolved from the environment or the credentials file.' },
  CREDENTIAL_FILE_INSECURE: { retryable: false, doc: 'The credentials file is readable by users other than its owner.' },
  UNSUPPORTED: { retryable: false, doc: 'The configuration asks for a feature this version does not run.' },
  SOURCE_UNAVAILABLE: { retryable: true, doc: 'The source (Kafka broker, directory) cannot be reached right now.' },
  SOURCE_AUTH: { retryable: false, doc: 'The Kafka cluster refused the login (SASL) or the TLS handshake (untrusted or mismatched certificate, client certificate refused, TLS/plaintext mismatch).' },
  SOURCE_DATA_LOSS: { retryable: false, doc: 'Planned source records are gone (retention) and failOnDataLoss is true.' },
  SINK_UNAVAILABLE: { retryable: true, doc: 'The database connection failed or was lost.' },
  SINK_CONFLICT: { retryable: true, doc: 'Serialization failure or deadlock; the transaction can be re-run as is.' },
  SINK_TIMEOUT: { retryable: true, doc: 'A database statement or connection timed out.' },
  SINK_AUTH: { retryable: false, doc: 'The database refused the login (password, client certificate, pg_hba) or its TLS certificate failed verification (untrusted chain, host-name mismatch, no TLS where required).' },
  SINK_SCHEMA: { retryable: false, doc: 'The target table is missing or does not match the configured columns.' },
  SINK_FENCED: { retryable: false, doc: 'The stored source position moved under this worker: another worker owns the partition.' },
  CHECKPOINT_CORRUPT: { retryable: false, doc: 'The checkpoint folder is inconsistent with itself or with the database.' },
  CHECKPOINT_IO: { retryable: true, doc: 'The checkpoint folder could not be written.' },
  RECORD_DECODE: { retryable: false, doc: 'A record value is not valid JSON (or not decodable), or a Debezium change event Sluice does not apply (truncate, another op, a delete without its key); it goes to the DLQ.' },
  RECORD_SCHEMA: { retryable: false, doc: 'A record violates its extract schema; it goes to the DLQ.' },
  RECORD_EVENT_TIME: { retryable: false, doc: 'A record has a missing or unparsable event time; it goes to the DLQ.' },
  RECORD_TRANSFORM: { retryable: false, doc: 'A transform step could not convert a record value (cast); it goes to the DLQ.' },
  RECORD_COLUMN: { retryable: false, doc: 'A value does not fit its column (type, length, NOT NULL, CHECK, foreign key).' },
  RECORD_DUPLICATE: { retryable: false, doc: 'A record repeats the key of an earlier record (the deduplicate step with onDuplicate "dlq").' },
  RECORD_ROUTE: { retryable: false, doc: 'The table a record\'s topic names through a {topic} template in load.table is longer than PostgreSQL\'s 63-byte identifier limit; it goes to the DLQ.' },
  LATE_DATA: { retryable: false, doc: 'A record arrived at or below the watermark (late-data destinations use this code).' },
  DLQ_UNAVAILABLE: { retryable: true, doc: 'The dead-letter destination cannot be written right now.' },
  DLQ_UNDELIVERED: { retryable: false, doc: 'A run ended with Kafka-bound dead letters or late records still in the outbox (not published within outboxConfig.drainTimeoutSeconds).' },
  DLQ_AUTH: { retryable: false, doc: 'The Kafka cluster of the DLQ or late-data topic refused the login (SASL) or the TLS handshake.' },
  CIRCUIT_OPEN: { retryable: true, doc: 'The circuit breaker is open; the batch waits for the reset timeout.' },
  RETRIES_EXHAUSTED: { retryable: false, doc: 'A retryable failure persisted through every configured attempt.' },
  FAIL_FAST: { retryable: false, doc: 'failFast is set and a bad record was found; nothing of the batch was committed.' },
  SHUTDOWN: { retryable: false, doc: 'The query was stopped by a signal before the batch could finish.' },
  QUERY_REFUSED: { retryable: false, doc: '`sluice sql` refused a query that is not one read-only statement (several statements, a write, transaction control).' },
  QUERY_FAILED: { retryable: false, doc: 'The database rejected the query of `sluice sql` (syntax error, unknown table or column, a write in the READ ONLY transaction).' },
  PIPELINE_RUNNING: { retryable: false, doc: '`sluice reset` refused to move the positions because a worker of the pipeline is running (it holds the run lock in the sink database, or the embedded database is open in another process).' },
  RESET_REFUSED: { retryable: false, doc: '`sluice reset` refused its target: a partition the source does not have, an offset outside the partition\'s log, a target the source cannot take, or a pipeline without stored positions.' },
  INTERNAL: { retryable: false, doc: 'A bug in Sluice: an invariant did not hold.' },
} as const satisfies Record<string, { retryable: boolean; doc: string }>

export type ErrorCode = keyof typeof errorCatalog

export interface SluiceErrorOptions {
  cause?: unknown
  /** Structured, secret-free context (paths, offsets, batch ids) for logs and DLQ headers. */
  details?: Record<string, unknown>
  /** Overrides the catalog's retryable flag, e.g. a connection error known to be permanent. */
  retryable?: boolean
}

/** Base of every error Sluice raises on purpose. */
export class SluiceError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly details: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SluiceError'
    this.code = code
    this.retryable = options.retryable ?? errorCatalog[code].retryable
    this.details = options.details ?? {}
  }

  /** JSON form for logs and `--json` output; the cause chain is reduced to messages. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, details: this.details }
  }
}

/** True when `err` is a SluiceError (optionally with the given code). */
export function isSluiceError(err: unknown, code?: ErrorCode): err is SluiceError {
  return err instanceof SluiceError && (code === undefined || err.code === code)
}

/** Wraps anything thrown into a SluiceError, keeping SluiceErrors as they are. */
export function toSluiceError(err: unknown, fallback: ErrorCode = 'INTERNAL'): SluiceError {
  if (err instanceof SluiceError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new SluiceError(fallback, message, { cause: err })
}
