/**
 * Schema evolution (`load.autoEvolve`): which columns a batch needs that the table lacks, and of
 * which type. The table writer adds them (`ALTER TABLE ... ADD COLUMN IF NOT EXISTS`, nullable) in
 * the batch transaction before the rows are written; see table-writer.ts for the lock and the cache.
 *
 * A field is new when no column has its name (exactly, or case-insensitively: the loader reads a
 * column from a field of either spelling). A field that is null (or absent) in every row of the
 * batch adds nothing yet: it has no type, and a column it would add holds nothing. Its type, first
 * that applies:
 * 1. the load schema's type, when the schema file declares the field (NOT NULL dropped: the table
 *    has rows without it);
 * 2. the Connect schema of the record (extract.envelope connect, or debezium with its schema part)
 *    when it describes the field, the batch's values are what it says (a step may have cast a
 *    field) and its value is the column's input (Decimal, Date, Time and Timestamp types arrive
 *    converted, engine/connect-logical.ts; a MicroDuration, Bits or Json value does not);
 * 3. the JSON values of the field in the batch: integers bigint (numeric beyond bigint's range),
 *    other numbers numeric (exact, as Sluice keeps numbers), strings text, booleans boolean,
 *    objects and arrays jsonb; integers with other numbers numeric, and any other mix text (the one
 *    type every value has a form in: JSON text for objects, true/false, numbers as written).
 * A field whose name cannot be a PostgreSQL column (empty, a NUL character, longer than 63 bytes,
 * where the server would cut it) adds no column: its rows are RECORD_COLUMN dead letters.
 */
import type { ConnectSchema, ConnectType } from '../../../api/connect-schema.ts'
import { parseConnectSchema } from '../../../api/connect-schema.ts'
import type { Row, SourceRecord } from '../../../api/record.ts'
import type { ValueEnvelope } from '../../../api/source.ts'
import type { RejectedRow } from '../../../api/writer.ts'
import { CONVERTED_LOGICAL_TYPES } from '../../../engine/connect-logical.ts'
import { isMetadataName } from '../../../engine/metadata.ts'
import { toDecimal } from '../../../engine/decimal.ts'
import { parseValue } from '../../../engine/decode.ts'
import { isExactNumber } from '../../../engine/exact-number.ts'
import { SluiceError } from '../../../errors.ts'
import type { LoadSchema, TableInfo } from './columns.ts'
import { connectColumnType } from './connect-types.ts'
import { checkSqlType, quoteIdent } from './sql/quote.ts'

/** What a value is, as far as the choice of a column type goes. */
export type ValueKind = 'integer' | 'number' | 'boolean' | 'string' | 'json' | 'time' | 'bytes'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function integerKind(digits: bigint): ValueKind {
  return digits >= INT64_MIN && digits <= INT64_MAX ? 'integer' : 'number'
}

/** The kind of one value; null for null and undefined (no type to learn from). */
export function valueKind(v: unknown): ValueKind | null {
  switch (typeof v) {
    case 'undefined':
      return null
    case 'boolean':
      return 'boolean'
    case 'string':
      return 'string'
    case 'bigint':
      return integerKind(v)
    case 'number':
      return Number.isSafeInteger(v) ? 'integer' : Number.isInteger(v) ? integerKind(BigInt(v)) : 'number'
    case 'object': {
      if (v === null) return null
      if (isExactNumber(v)) {
        const d = toDecimal(v)
        if (d === null) return 'number'
        const unit = 10n ** BigInt(d.scale)
        return d.digits % unit === 0n ? integerKind(d.digits / unit) : 'number'
      }
      if (v instanceof Date) return 'time'
      if (v instanceof Uint8Array) return 'bytes'
      return 'json'
    }
    default:
      return 'string'
  }
}

const KIND_TYPE: Readonly<Record<ValueKind, string>> = {
  integer: 'bigint',
  number: 'numeric',
  boolean: 'boolean',
  string: 'text',
  json: 'jsonb',
  time: 'timestamptz',
  bytes: 'bytea',
}

/** The column type for the kinds of a field's values (see the file comment); undefined for none. */
export function typeForKinds(kinds: ReadonlySet<ValueKind>): string | undefined {
  if (kinds.size === 0) return undefined
  if (kinds.size === 1) return KIND_TYPE[[...kinds][0] as ValueKind]
  if (kinds.size === 2 && kinds.has('integer') && kinds.has('number')) return 'numeric'
  return 'text'
}

/** The kinds a Connect type's JSON (JsonConverter) values have. bytes (base64 text) is left out: it needs decoding. */
const CONNECT_KINDS: Readonly<Partial<Record<ConnectType, readonly ValueKind[]>>> = {
  int8: ['integer'],
  int16: ['integer'],
  int32: ['integer'],
  int64: ['integer'],
  float32: ['integer', 'number'],
  float64: ['integer', 'number'],
  boolean: ['boolean'],
  string: ['string'],
  array: ['json'],
  map: ['json'],
  struct: ['json'],
}

/**
 * Logical types whose JSON is still not the input of the column connect-types.ts gives them after
 * decoding (engine/connect-logical.ts converts Decimal, Date, Time and Timestamp types, not these):
 * microseconds of a duration, base64 bits, JSON inside a string.
 */
const NEEDS_CONVERSION: ReadonlySet<string> = new Set(['io.debezium.time.MicroDuration', 'io.debezium.data.Json', 'io.debezium.data.Bits'])

/** What a converted logical type's values are after decoding: its column's input as text (a decimal also as a JSON number). */
const CONVERTED_KINDS: readonly ValueKind[] = ['string', 'integer', 'number']

/** The Connect schema's column type for a field whose values have `kinds`, when it can be used as it is. */
export function connectFieldType(field: ConnectSchema, kinds: ReadonlySet<ValueKind>): string | undefined {
  if (field.name !== undefined && NEEDS_CONVERSION.has(field.name)) return undefined
  const accepted = field.name !== undefined && CONVERTED_LOGICAL_TYPES.has(field.name) ? CONVERTED_KINDS : CONNECT_KINDS[field.type]
  if (accepted === undefined || [...kinds].some((k) => !accepted.includes(k))) return undefined
  return connectColumnType(field)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isExactNumber(v)
}

/**
 * The struct schema of a record's row, read again from its bytes (only for a batch that has a new
 * field): the value schema of a Connect envelope, or the `after` schema of a Debezium event in the
 * envelope. null without one (no envelope configured, schemas.enable=false, not a struct).
 */
export function rowConnectSchema(record: SourceRecord, envelope: ValueEnvelope): ConnectSchema | null {
  if (envelope === 'none' || record.value === null) return null
  let json: unknown
  try {
    json = parseValue(record.value)
  } catch {
    return null
  }
  if (!isObject(json) || !Object.hasOwn(json, 'payload') || !isObject(json['schema'])) return null
  const parsed = parseConnectSchema(json['schema'])
  if ('error' in parsed || parsed.type !== 'struct') return null
  if (envelope === 'connect') return parsed
  const after = parsed.fields?.find((f) => f.field === 'after')
  return after !== undefined && after.type === 'struct' ? after : null
}

/** Why a field name cannot be a column name, or undefined when it can. */
export function columnNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty'
  if (name.includes('\u0000')) return 'it contains a NUL character'
  const bytes = Buffer.byteLength(name, 'utf8')
  // NAMEDATALEN - 1: the server would cut the name, and the field would never match its column.
  if (bytes > 63) return `it is ${bytes} bytes long, and PostgreSQL names hold 63`
  return undefined
}

/** One column to add. */
export interface NewColumn {
  readonly name: string
  /** The SQL type (checked). */
  readonly type: string
  /** Where the type came from, for the log. */
  readonly from: 'load schema' | 'Connect schema' | 'values'
}

/** A field of the batch that has no column: the kinds of its values and the rows that carry one. */
interface NewField {
  readonly kinds: Set<ValueKind>
  readonly rows: Row[]
}

/**
 * The fields of `rows` with a non-null value and no column in `table` (exactly or case-insensitively
 * named), in first-seen order. `only`, when given, limits them to those names (a column mapping's);
 * without it, metadata names (`key`, `topic`, `_metadata.offset`, `__op`...) are left out: the engine
 * adds those fields to every row while the table's columns are unknown, and a metadata column is the
 * user's to declare (a column mapping, the load schema, or the table).
 */
export function newFields(table: TableInfo, rows: readonly Row[], only?: ReadonlySet<string>): Map<string, NewField> {
  const known = new Set<string>()
  for (const c of table.columns) {
    known.add(c.name)
    known.add(c.name.toLowerCase())
  }
  const out = new Map<string, NewField>()
  for (const row of rows) {
    const values = row.values
    for (const name in values) {
      if (!Object.hasOwn(values, name) || known.has(name)) continue
      if (only !== undefined ? !only.has(name) : isMetadataName(name)) continue
      const kind = valueKind(values[name])
      if (kind === null) continue
      if (known.has(name.toLowerCase())) continue
      let field = out.get(name)
      if (field === undefined) out.set(name, (field = { kinds: new Set(), rows: [] }))
      field.kinds.add(kind)
      field.rows.push(row)
    }
  }
  return out
}

/** What evolution does for one batch: the columns to add, and the rows refused for a field name no column can have. */
export interface EvolvePlan {
  readonly add: readonly NewColumn[]
  readonly refused: readonly RejectedRow[]
}

export interface EvolveOptions {
  readonly loadSchema?: LoadSchema | undefined
  readonly envelope: ValueEnvelope
  /** With a column mapping: the mapped columns, the only ones evolution adds. */
  readonly only?: ReadonlySet<string> | undefined
}

const NULLABILITY = /\s+(NOT\s+)?NULL$/i

/** The columns `rows` need that `table` lacks, with their types (see the file comment). */
export function planEvolution(table: TableInfo, rows: readonly Row[], options: EvolveOptions): EvolvePlan {
  const fields = newFields(table, rows, options.only)
  const add: NewColumn[] = []
  const refused: RejectedRow[] = []
  const refusedRows = new Set<Row>()
  const schemas = new Map<SourceRecord, ConnectSchema | null>()
  const schemaOf = (row: Row): ConnectSchema | null => {
    if (!schemas.has(row.source)) schemas.set(row.source, rowConnectSchema(row.source, options.envelope))
    return schemas.get(row.source) ?? null
  }
  for (const [name, field] of fields) {
    const problem = columnNameProblem(name)
    if (problem !== undefined) {
      for (const row of field.rows) {
        if (refusedRows.has(row)) continue
        refusedRows.add(row)
        const details = { table: `${table.schema}.${table.name}`, column: name, partition: row.source.partition, offset: row.source.offset }
        refused.push({ row, error: new SluiceError('RECORD_COLUMN', `field ${JSON.stringify(name.slice(0, 80))} cannot become a column (autoEvolve): ${problem}`, { details }) })
      }
      continue
    }
    add.push(columnFor(name, field, options, schemaOf))
  }
  return { add, refused }
}

function columnFor(name: string, field: NewField, options: EvolveOptions, schemaOf: (row: Row) => ConnectSchema | null): NewColumn {
  const declared = options.loadSchema !== undefined && Object.hasOwn(options.loadSchema.columns, name) ? options.loadSchema.columns[name] : undefined
  if (declared !== undefined) return { name, type: checkSqlType(declared).replace(NULLABILITY, ''), from: 'load schema' }
  if (options.envelope !== 'none') {
    const schema = schemaOf(field.rows[0] as Row)?.fields?.find((f) => f.field === name)
    const type = schema === undefined ? undefined : connectFieldType(schema, field.kinds)
    if (type !== undefined) return { name, type: checkSqlType(type), from: 'Connect schema' }
  }
  return { name, type: typeForKinds(field.kinds) as string, from: 'values' }
}

/** The ALTER TABLE that adds `columns` (nullable, no default: existing rows get NULL without a rewrite). */
export function addColumnsSql(quotedTable: string, columns: readonly NewColumn[]): string {
  return `ALTER TABLE ${quotedTable} ${columns.map((c) => `ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${c.type}`).join(', ')}`
}
