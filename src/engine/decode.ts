/**
 * Turns a SourceRecord into named values: the value's JSON fields (or the fields a CSV/generator
 * source already named), plus the record's metadata under Spark's Kafka column names (key, value,
 * topic, partition, offset, timestamp, headers) when the payload has no field of that name.
 * A value that is not UTF-8 or not a JSON object is a bad record (RECORD_DECODE), never dropped.
 */
import type { RowValues, SourceRecord } from '../api/record.ts'

/** Strict UTF-8 (invalid bytes throw); a leading BOM is kept, as Buffer#toString keeps it. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export type DecodeResult =
  | { readonly ok: true; readonly values: RowValues }
  | { readonly ok: false; readonly reason: string }

/** The metadata fields a record can carry besides its payload (Spark's Kafka source columns). */
export const METADATA_FIELDS = ['key', 'value', 'topic', 'partition', 'offset', 'timestamp', 'headers'] as const
export type MetadataField = (typeof METADATA_FIELDS)[number]

/**
 * Decodes one record; tombstones (null values) must be handled by the caller first. `metadata`
 * lists the metadata fields to add (those the target table has); all of them when omitted.
 */
export function decodeRecord(record: SourceRecord, metadata: ReadonlySet<MetadataField> = ALL_METADATA): DecodeResult {
  let values: RowValues
  if (record.fields !== undefined) {
    values = { ...record.fields }
  } else {
    const bytes = record.value
    if (bytes === null) return { ok: false, reason: 'value is null (tombstone)' }
    // One pass that validates and decodes (isUtf8 + toString walked every value twice).
    let text: string
    try {
      text = utf8.decode(bytes)
    } catch {
      return { ok: false, reason: 'value is not valid UTF-8' }
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      return { ok: false, reason: `value is not valid JSON: ${(err as Error).message}` }
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { ok: false, reason: `value is JSON but not an object (got ${Array.isArray(parsed) ? 'array' : parsed === null ? 'null' : typeof parsed})` }
    }
    values = parsed as RowValues
    if (metadata.has('value') && !('value' in values)) values.value = text
  }
  if (metadata.size > 0) addMetadata(values, record, metadata)
  return { ok: true, values }
}

const ALL_METADATA: ReadonlySet<MetadataField> = new Set(METADATA_FIELDS)

/** The metadata fields worth adding for a table with these columns (all when the columns are unknown). */
export function metadataFor(columns: readonly string[] | null): ReadonlySet<MetadataField> {
  if (columns === null) return ALL_METADATA
  const lower = new Set(columns.map((c) => c.toLowerCase()))
  return new Set(METADATA_FIELDS.filter((f) => lower.has(f)))
}

// Only the fields the table can hold are built: a Date and a headers object per record are not free.
function addMetadata(values: RowValues, record: SourceRecord, metadata: ReadonlySet<MetadataField>): void {
  if (metadata.has('key') && !('key' in values)) values.key = record.key === null ? null : record.key.toString('utf8')
  if (metadata.has('topic') && !('topic' in values)) values.topic = record.topic
  if (metadata.has('partition') && !('partition' in values)) values.partition = record.partitionNumber
  if (metadata.has('offset') && !('offset' in values)) values.offset = record.offset
  if (metadata.has('timestamp') && !('timestamp' in values)) values.timestamp = new Date(record.timestamp)
  if (metadata.has('headers') && !('headers' in values)) values.headers = headersObject(record.headers)
}

/** Headers as a JSON object (UTF-8 text; a repeated name keeps its last value). */
export function headersObject(headers: SourceRecord['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of headers) out[name] = value.toString('utf8')
  return out
}

/** The values of a tombstone's key (for deletes in upsert mode): the key's JSON object, or the raw key text. */
export function decodeKey(record: SourceRecord, keyColumns: readonly string[]): RowValues | null {
  if (record.key === null) return null
  const text = record.key.toString('utf8')
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as RowValues
    if (keyColumns.length === 1 && keyColumns[0] !== undefined) return { [keyColumns[0]]: parsed }
  } catch {
    if (keyColumns.length === 1 && keyColumns[0] !== undefined) return { [keyColumns[0]]: text }
  }
  return null
}
