/**
 * Record metadata as fields: the Kafka key, topic, partition, offset, timestamp and headers (and
 * for files the file name and line) are fields of every record, under Spark's names, for every
 * transform step, the watermark and the table, like any field of the payload.
 *
 * - The bare names (`key`, `value`, `topic`, `partition`, `offset`, `timestamp`, `timestampType`,
 *   `headers`: Spark's Kafka source columns; and `keyJson`, the key parsed, for Connect's record_key) are the record's own fields when its payload has a
 *   field of that name: a payload field is never overwritten.
 * - The same values are always under `_metadata.<name>` (Spark's `_metadata` column), which no
 *   payload shadows in practice; the file source adds `_metadata.file_name`,
 *   `_metadata.file_modification_time` and `_metadata.line` there.
 *
 * Building a Date and a headers object per record is not free, so a query adds only the fields
 * that something can read: a name a step, the watermark or the upsert key refers to, or a column of
 * the target table. The choice is made once per query (`metadataAdder`), never per record.
 */
import { type RowValues, type SourceRecord, fieldOf, setField } from '../api/record.ts'
import type { SourceKind, ValueEnvelope } from '../api/source.ts'
import { recordConverter } from './connect-logical.ts'
import type { ChangeEvent } from './debezium.ts'
import { connectPayload } from './decode.ts'
import { parseJson } from './exact-number.ts'

/** The kind of source, for the metadata it has (the file source has file names and lines); declared in the source contract. */
export type { SourceKind }

/**
 * Adds a record's metadata fields to its values (in place), skipping names the payload has; with a
 * Debezium change event (`change`) its `__op`, `__ts_ms` and `__source` fields too.
 */
export type MetadataAdder = (values: RowValues, record: SourceRecord, change?: ChangeEvent) => void

/** The prefix of the metadata names no payload field shadows. */
export const METADATA_PREFIX = '_metadata.'

/** One metadata field: its name (bare, or under `_metadata.` only), type and meaning, for the docs too. */
export interface MetadataFieldSpec {
  readonly name: string
  /** True: also under the bare name; false: only as `_metadata.<name>`. */
  readonly bare: boolean
  /** The sources that have it. */
  readonly sources: readonly SourceKind[]
  /** The value's type as a field (and a fitting PostgreSQL column type). */
  readonly type: string
  readonly description: string
  readonly get: (record: SourceRecord) => unknown
}

const ALL: readonly SourceKind[] = ['kafka', 'file', 'generator']

/** Every metadata field, in the order of Spark's Kafka source columns, then the file source's. */
export const METADATA_FIELDS: readonly MetadataFieldSpec[] = [
  {
    name: 'key',
    bare: true,
    sources: ALL,
    type: 'text or null',
    description: 'The Kafka key as UTF-8 text; null without a key (files, generator).',
    get: (r) => (r.key === null ? null : r.key.toString('utf8')),
  },
  {
    name: 'keyJson',
    bare: true,
    sources: ALL,
    type: 'JSON value or null (jsonb)',
    description:
      'The Kafka key parsed as JSON (exact numbers), a key in Connect\'s envelope (exactly `schema` and `payload`, as Debezium\'s key converter writes it) read as its payload with its logical types converted; the key text when it is not JSON; null without a key. Field paths read a struct key\'s parts: `columnMapping: { "id": "keyJson.id" }` takes a primary key from the record key (Connect\'s pk.mode=record_key).',
    get: (r) => keyJson(r),
  },
  {
    name: 'value',
    bare: true,
    sources: ALL,
    type: 'text',
    description: 'The whole payload as UTF-8 text: the JSON document, the CSV line.',
    get: (r) => (r.value === null ? null : r.value.toString('utf8')),
  },
  { name: 'topic', bare: true, sources: ALL, type: 'text', description: 'The Kafka topic; for files the file name; `generator` for the generator.', get: (r) => r.topic },
  { name: 'partition', bare: true, sources: ALL, type: 'integer', description: 'The Kafka partition; 0 for files and the generator.', get: (r) => r.partitionNumber },
  {
    name: 'offset',
    bare: true,
    sources: ALL,
    type: 'text (a decimal integer; bigint as a column)',
    description: 'The Kafka offset (64-bit, so text: cast to int or load into bigint); for files the line number (NDJSON) or the record number (CSV, after the header).',
    get: (r) => r.offset,
  },
  {
    name: 'timestamp',
    bare: true,
    sources: ALL,
    type: 'timestamp (timestamptz)',
    description: "The Kafka record timestamp (create or log-append time); for files the file's modification time.",
    get: (r) => new Date(r.timestamp),
  },
  {
    name: 'timestampType',
    bare: true,
    sources: ALL,
    type: 'integer or null',
    description: 'As in Spark: 0 create time, 1 log-append time; null for other sources.',
    get: (r) => r.timestampType ?? null,
  },
  {
    name: 'headers',
    bare: true,
    sources: ALL,
    type: 'JSON object (jsonb)',
    description: 'Kafka headers as {name: UTF-8 text}; a name given more than once has an array of its values, in order; {} without headers.',
    get: (r) => headersObject(r.headers),
  },
  { name: 'file_name', bare: false, sources: ['file'], type: 'text', description: 'The file the record was read from, relative to the source folder.', get: (r) => r.topic },
  {
    name: 'file_modification_time',
    bare: false,
    sources: ['file'],
    type: 'timestamp (timestamptz)',
    description: "The file's modification time.",
    get: (r) => new Date(r.timestamp),
  },
  { name: 'line', bare: false, sources: ['file'], type: 'integer', description: 'The 1-based line of the file where the record starts.', get: (r) => r.line ?? null },
]

/** A field of a Debezium change event beside its row (`extract.envelope: "debezium"`), for the docs too. */
export interface ChangeFieldSpec {
  readonly name: string
  readonly type: string
  readonly description: string
  readonly get: (change: ChangeEvent) => unknown
}

/**
 * The change event's own fields, named as Debezium's ExtractNewRecordState transform adds them
 * (`add.fields=op,ts_ms,source` gives `__op`, ...), so a Connect user knows them; `__source` is the
 * whole source block, read in parts with field paths (`__source.table`, `__source.lsn`).
 */
export const CHANGE_FIELDS: readonly ChangeFieldSpec[] = [
  { name: '__op', type: 'text', description: 'The event\'s op: c (insert), r (snapshot read) or u (update); d deletes and has no row.', get: (c) => c.op },
  { name: '__ts_ms', type: 'integer (epoch ms; bigint as a column)', description: "The event's ts_ms: when the connector processed the change; null when absent.", get: (c) => c.tsMs },
  {
    name: '__source',
    type: 'JSON object (jsonb)',
    description: "Debezium's source block (connector, db, schema, table, lsn, txId, ts_ms, ...); field paths read its parts: __source.table.",
    get: (c) => c.source,
  },
]

/** The record key as JSON (see the `keyJson` field): a Connect envelope's payload, logical types converted. */
export function keyJson(record: SourceRecord): unknown {
  if (record.key === null) return null
  const text = record.key.toString('utf8')
  let json: unknown
  try {
    json = parseJson(text)
  } catch {
    return text
  }
  const payload = connectPayload(json)
  if (payload === json) return json
  const schema = (json as Record<string, unknown>)['schema']
  return recordConverter(schema)?.(payload) ?? payload
}

/**
 * True for a name a metadata field or a change event's field goes by, for any source (`key`,
 * `_metadata.offset`, `__op`; any case). Schema evolution adds no column for these: when the table's
 * columns are not known yet the engine adds every metadata field to the rows, and a table created
 * or evolved from them would get a column for each.
 */
export function isMetadataName(name: string): boolean {
  return METADATA_NAMES.has(name.toLowerCase())
}

/** Every metadata name, lower case (bare, `_metadata.`, change fields). */
const METADATA_NAMES: ReadonlySet<string> = new Set([
  ...METADATA_FIELDS.flatMap((f) => (f.bare ? [f.name, METADATA_PREFIX + f.name] : [METADATA_PREFIX + f.name])),
  ...CHANGE_FIELDS.map((f) => f.name),
].map((n) => n.toLowerCase()))

/** Every name a metadata field goes by for this kind of source: bare ones and `_metadata.` ones. */
export function metadataNames(kind: SourceKind): string[] {
  const out: string[] = []
  for (const f of METADATA_FIELDS) {
    if (!f.sources.includes(kind)) continue
    if (f.bare) out.push(f.name)
    out.push(METADATA_PREFIX + f.name)
  }
  return out
}

/**
 * Compiles the adder for one query: the metadata names of `kind` (and of a Debezium change event
 * with that `envelope`) that `wanted` accepts (called with each name in lower case), or null when
 * none is wanted.
 */
export function metadataAdder(kind: SourceKind, wanted: (lowerName: string) => boolean, envelope: ValueEnvelope = 'none'): MetadataAdder | null {
  const fields: [string, MetadataFieldSpec['get']][] = []
  for (const f of METADATA_FIELDS) {
    if (!f.sources.includes(kind)) continue
    if (f.bare && wanted(f.name.toLowerCase())) fields.push([f.name, f.get])
    if (wanted((METADATA_PREFIX + f.name).toLowerCase())) fields.push([METADATA_PREFIX + f.name, f.get])
  }
  const changes = envelope === 'debezium' ? CHANGE_FIELDS.filter((f) => wanted(f.name.toLowerCase())).map((f): [string, ChangeFieldSpec['get']] => [f.name, f.get]) : []
  if (fields.length === 0 && changes.length === 0) return null
  if (changes.length === 0) {
    return (values, record) => {
      for (const [name, get] of fields) if (!Object.hasOwn(values, name)) values[name] = get(record)
    }
  }
  return (values, record, change) => {
    for (const [name, get] of fields) if (!Object.hasOwn(values, name)) values[name] = get(record)
    if (change !== undefined) for (const [name, get] of changes) if (!Object.hasOwn(values, name)) values[name] = get(change)
  }
}

/**
 * The adder for a query whose steps, watermark and keys read `referenced` (a field path's root too:
 * `__source` for `__source.table`) and whose table has `columns` (null: unknown, so every field is
 * added). Names compare case-insensitively, as the
 * sink maps fields to columns; an extra field is harmless, a missing one would be a NULL.
 */
export function metadataFor(kind: SourceKind, referenced: readonly string[], columns: readonly string[] | null, envelope: ValueEnvelope = 'none'): MetadataAdder | null {
  if (columns === null) return metadataAdder(kind, () => true, envelope)
  const names = new Set([...referenced, ...columns].map((n) => n.toLowerCase()))
  return metadataAdder(kind, (name) => names.has(name), envelope)
}

/**
 * Headers as a JSON object of UTF-8 text. Kafka allows a name more than once (tracing and retry
 * headers do it); such a name gets an array of its values in header order, so none is lost.
 */
export function headersObject(headers: SourceRecord['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of headers) {
    const text = value.toString('utf8')
    const prior = fieldOf(out, name) as string | string[] | undefined
    if (prior === undefined) setField(out, name, text)
    else if (Array.isArray(prior)) prior.push(text)
    else setField(out, name, [prior, text])
  }
  return out
}
