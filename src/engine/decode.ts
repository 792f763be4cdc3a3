/**
 * Turns a SourceRecord into named values: the value's JSON fields (or the fields a CSV/generator
 * source already named); the record's metadata (key, topic, ...) is added after the extract schema
 * checked the payload (metadata.ts). A value that is not UTF-8 or not a JSON object is a bad record
 * (RECORD_DECODE), never dropped.
 * Numbers a double cannot hold exactly stay exact (ExactNumber, exact-number.ts).
 */
import type { RowValues, SourceRecord } from '../api/record.ts'
import type { ValueEnvelope } from '../api/source.ts'
import { unwrapConnect } from './connect-envelope.ts'
import { recordConverter } from './connect-logical.ts'
import { isExactNumber, parseJson, parseJsonBytes } from './exact-number.ts'

/** Strict UTF-8 (invalid bytes throw); a leading BOM is kept, as Buffer#toString keeps it. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export type DecodeResult =
  | { readonly ok: true; readonly values: RowValues }
  | { readonly ok: false; readonly reason: string }

/** Decodes one record; tombstones (null values) must be handled by the caller first. */
export function decodeRecord(record: SourceRecord, envelope: ValueEnvelope = 'none'): DecodeResult {
  const decoded = decodeValues(record, envelope)
  return typeof decoded === 'string' ? { ok: false, reason: decoded } : { ok: true, values: decoded }
}

/**
 * decodeRecord without the result object (the record path's form: one allocation less per
 * record): the values, or, as a string, why the record cannot be decoded. With the `connect`
 * envelope the values are the envelope's payload (connect-envelope.ts); records a source named
 * itself (CSV, generator) have no envelope.
 */
export function decodeValues(record: SourceRecord, envelope: ValueEnvelope = 'none'): RowValues | string {
  if (record.decodeError !== undefined) return record.decodeError
  if (record.fields !== undefined) return { ...record.fields }
  const bytes = record.value
  if (bytes === null) return 'value is null (tombstone)'
  let parsed: unknown
  try {
    parsed = parseValue(bytes)
  } catch (err) {
    return (err as Error).message
  }
  if (envelope === 'connect') {
    const unwrapped = unwrapConnect(parsed)
    if (typeof unwrapped === 'string') return unwrapped
    parsed = unwrapped.payload
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || isExactNumber(parsed)) {
      return `the Kafka Connect envelope's payload is ${describeJson(parsed)}, not an object (a record's fields)`
    }
    // Logical types (Decimal bytes, Date days, ...) become PostgreSQL values by the schema (connect-logical.ts).
    const convert = recordConverter(unwrapped.schema, bytes)
    if (convert === null) return parsed as RowValues
    try {
      return convert(parsed) as RowValues
    } catch (err) {
      return `the Kafka Connect envelope's payload does not match its schema: ${(err as Error).message}`
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return `value is JSON but not an object (got ${Array.isArray(parsed) ? 'array' : parsed === null ? 'null' : typeof parsed})`
  }
  return parsed as RowValues
}

/** A value's JSON (exact numbers kept); throws an Error whose message is why it is not JSON text. */
export function parseValue(bytes: Buffer): unknown {
  // One pass that validates and decodes (isUtf8 + toString walked every value twice).
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw new Error('value is not valid UTF-8')
  }
  try {
    return parseJsonBytes(text, bytes)
  } catch (err) {
    throw new Error(`value is not valid JSON: ${(err as Error).message}`)
  }
}

export function describeJson(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : isExactNumber(v) ? 'a number' : `a ${typeof v}`
}

/**
 * The values of a tombstone's key (for deletes in upsert mode): the key's JSON object, or the raw key
 * text. With the `connect` or `debezium` envelope a key in Connect's envelope (`{"schema": ...,
 * "payload": ...}`, what Debezium's key converter writes with schemas.enable=true) is read as its payload; a key is
 * unwrapped only when it has exactly those fields, since Connect's key and value converters are
 * configured apart and a plain JSON key stays readable.
 */
export function decodeKey(record: SourceRecord, keyColumns: readonly string[], envelope: ValueEnvelope = 'none'): RowValues | null {
  if (record.key === null) return null
  const text = record.key.toString('utf8')
  try {
    const json: unknown = parseJson(text)
    const parsed = envelope === 'none' ? json : connectPayload(json)
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && !isExactNumber(parsed)) return parsed as RowValues
    if (keyColumns.length === 1 && keyColumns[0] !== undefined) return { [keyColumns[0]]: parsed }
  } catch {
    if (keyColumns.length === 1 && keyColumns[0] !== undefined) return { [keyColumns[0]]: text }
  }
  return null
}

/**
 * A value's Connect payload when it is an envelope (only `schema` and `payload` fields), else the
 * value itself: for keys, and for Debezium events, which may come with or without the wrapper.
 */
export function connectPayload(json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || isExactNumber(json)) return json
  const keys = Object.keys(json)
  const envelope = Object.hasOwn(json, 'payload') && keys.every((k) => k === 'payload' || k === 'schema')
  return envelope ? (json as Record<string, unknown>)['payload'] : json
}
