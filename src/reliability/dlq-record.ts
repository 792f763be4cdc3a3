/**
 * The dead-letter record format, in one place for both DLQ types. A dead-lettered source record
 * keeps its original key, value and headers, and gains eight `sluice.*` fields saying why and where
 * from: as Kafka headers (Kafka DLQ, via the outbox) or as columns with the same dotted names
 * (PostgreSQL DLQ table). The engine writes these rows as SideOutputs of the batch transaction, which
 * is what makes the DLQ exactly-once.
 *
 * Value encodings in the returned RowValues (what the sink's COPY writer receives):
 * bytea -> Buffer (or null), bigint offsets -> decimal string (64-bit safe), timestamptz -> ISO string,
 * jsonb -> the JSON text as a Buffer: the COPY writer takes raw bytes as JSON text as they are, while a
 * JS string would be stored as a JSON string value (and a JS array is ambiguous for generic encoders).
 */
import type { RowValues, SourceRecord } from '../api/record.ts'
import type { ErrorCode } from '../errors.ts'
import { redactText } from '../secrets.ts'

export type Header = readonly [string, Buffer]

/** Longest reason kept, in characters; longer reasons are cut with an ellipsis. */
export const MAX_REASON_LENGTH = 1000

/** The header (Kafka) and column (table) names, in the order they are appended. */
export const DLQ_FIELDS = [
  'sluice.error.code',
  'sluice.error.reason',
  'sluice.pipeline.id',
  'sluice.batch.id',
  'sluice.source.topic',
  'sluice.source.partition',
  'sluice.source.offset',
  'sluice.failed.at',
] as const

export type DlqField = (typeof DLQ_FIELDS)[number]

export interface DlqInput {
  /** Why the record failed: RECORD_DECODE, RECORD_SCHEMA, RECORD_COLUMN, RECORD_EVENT_TIME, LATE_DATA... */
  readonly code: ErrorCode
  /** Human explanation; scrubbed of secrets and truncated here. */
  readonly reason: string
  readonly pipelineId: string
  readonly batchId: number
  readonly record: SourceRecord
  /** When the record was dead-lettered (epoch ms or Date). */
  readonly failedAt: Date | number
}

/** Scrubs secrets from a reason and cuts it to MAX_REASON_LENGTH characters. */
export function sanitizeReason(reason: string): string {
  const clean = redactText(reason).replace(/\s+/g, ' ').trim()
  return clean.length <= MAX_REASON_LENGTH ? clean : `${clean.slice(0, MAX_REASON_LENGTH - 1)}…`
}

/** The eight sluice.* values of a dead-lettered record, as text. */
export function dlqFields(input: DlqInput): Record<DlqField, string> {
  return {
    'sluice.error.code': input.code,
    'sluice.error.reason': sanitizeReason(input.reason),
    'sluice.pipeline.id': input.pipelineId,
    'sluice.batch.id': String(input.batchId),
    'sluice.source.topic': input.record.topic,
    'sluice.source.partition': String(input.record.partitionNumber),
    'sluice.source.offset': input.record.offset,
    'sluice.failed.at': new Date(input.failedAt).toISOString(),
  }
}

/**
 * Kafka headers of the DLQ record: the original headers, then the sluice.* headers (UTF-8). An
 * original header with a sluice.* name (a record that failed before and was replayed) is replaced,
 * so each sluice.* header appears once and describes the latest failure.
 */
export function dlqHeaders(input: DlqInput): Header[] {
  const fields = dlqFields(input)
  const names = new Set<string>(DLQ_FIELDS)
  const original = input.record.headers.filter(([name]) => !names.has(name))
  return [...original, ...DLQ_FIELDS.map((name): Header => [name, Buffer.from(fields[name], 'utf8')])]
}

/** One header in the jsonb form: text when the bytes are valid UTF-8, base64 otherwise (lossless). */
export type JsonHeader = { name: string; value: string } | { name: string; base64: string }

/** Encodes headers as the JSON text stored in `headers jsonb` columns (an array: names may repeat). */
export function encodeHeaders(headers: ReadonlyArray<readonly [string, Buffer]>): string {
  const out: JsonHeader[] = headers.map(([name, bytes]) => {
    const text = bytes.toString('utf8')
    return Buffer.from(text, 'utf8').equals(bytes) && !text.includes('\u0000') ? { name, value: text } : { name, base64: bytes.toString('base64') }
  })
  return JSON.stringify(out)
}

/** Inverse of encodeHeaders (for the outbox relay and for replaying DLQ rows). */
export function decodeHeaders(json: string): Header[] {
  const parsed = JSON.parse(json) as JsonHeader[]
  return parsed.map((h): Header => [h.name, 'value' in h ? Buffer.from(h.value, 'utf8') : Buffer.from(h.base64, 'base64')])
}

/** JSON text for a jsonb column, as bytes (see the file comment). */
function jsonText(text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

/** Columns of a PostgreSQL DLQ table (names are quoted by the sink: they contain dots). */
export const dlqTableColumns: Readonly<Record<string, string>> = {
  key: 'bytea',
  value: 'bytea',
  headers: 'jsonb',
  'sluice.error.code': 'text',
  'sluice.error.reason': 'text',
  'sluice.pipeline.id': 'text',
  'sluice.batch.id': 'bigint',
  'sluice.source.topic': 'text',
  'sluice.source.partition': 'integer',
  'sluice.source.offset': 'bigint',
  'sluice.failed.at': 'timestamptz',
}

/** The DLQ table row of a dead-lettered record; `headers` holds only the original headers. */
export function dlqRow(input: DlqInput): RowValues {
  const fields = dlqFields(input)
  return {
    key: input.record.key,
    value: input.record.value,
    headers: jsonText(encodeHeaders(input.record.headers)),
    'sluice.error.code': fields['sluice.error.code'],
    'sluice.error.reason': fields['sluice.error.reason'],
    'sluice.pipeline.id': input.pipelineId,
    'sluice.batch.id': input.batchId,
    'sluice.source.topic': input.record.topic,
    'sluice.source.partition': input.record.partitionNumber,
    'sluice.source.offset': input.record.offset,
    'sluice.failed.at': fields['sluice.failed.at'],
  }
}

/**
 * Columns of the Kafka DLQ outbox table. Rows are written by COPY in the batch transaction, so the id
 * is (pipeline_id, batch_id, seq) rather than a bigserial; the relay publishes them in that order
 * with an idempotent producer and can dedupe on that id.
 */
export const dlqOutboxColumns: Readonly<Record<string, string>> = {
  pipeline_id: 'text',
  batch_id: 'bigint',
  seq: 'integer',
  topic: 'text',
  key: 'bytea',
  value: 'bytea',
  headers: 'jsonb',
  created_at: 'timestamptz',
}

export interface OutboxInput extends DlqInput {
  /** Position of the record among the outbox rows of its batch, from 0. */
  readonly seq: number
  /** Destination Kafka topic (dlqConfig.topic, or lateDataConfig.dlqTopic for late records). */
  readonly topic: string
}

/** The outbox row of a dead-lettered record; `headers` holds the full Kafka header list to publish. */
export function outboxRow(input: OutboxInput): RowValues {
  return {
    pipeline_id: input.pipelineId,
    batch_id: input.batchId,
    seq: input.seq,
    topic: input.topic,
    key: input.record.key,
    value: input.record.value,
    headers: jsonText(encodeHeaders(dlqHeaders(input))),
    created_at: new Date(input.failedAt).toISOString(),
  }
}
