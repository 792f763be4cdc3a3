/**
 * What the loader knows about a table: its columns and types, read from the catalog once, and how
 * record fields map onto them. Without a load schema, fields map by name (exact, then case-insensitive;
 * missing fields become NULL or the column default; extra fields are ignored). With a load schema
 * (`<schemaDir>/<schemaName>.json`: `{ "columns": { "id": "bigint" }, "primaryKey": ["id"] }`) the
 * table is created from it when absent (autoCreateTable) and only its columns are loaded (with
 * autoEvolve every field is, see evolve.ts).
 */
import type { Row } from '../../../api/record.ts'
import { SluiceError } from '../../../errors.ts'
import { ABSENT, ASK_VALUES, fieldName, findField } from '../../../engine/flat-json.ts'
import { encoderFor, fieldValue, type CopyColumn } from './copy-encode.ts'
import { flatPolicyFor } from './copy-flat.ts'
import type { PgSession } from './driver.ts'
import { checkSqlType, quoteIdent, quoteName } from './sql/quote.ts'
import { sqlText } from './sql/sql-files.ts'

/** A load schema file, parsed. */
export interface LoadSchema {
  readonly columns: Readonly<Record<string, string>>
  readonly primaryKey?: readonly string[]
}

/** One column as the catalog describes it. */
export interface TableColumn {
  readonly name: string
  /** Full SQL type, e.g. `character varying(20)`. */
  readonly type: string
  readonly udt: string
  readonly category: string
  readonly hasDefault: boolean
  readonly notNull: boolean
  readonly generated: boolean
}

/** A resolved target table: where it is and what it holds. */
export interface TableInfo {
  readonly schema: string
  readonly name: string
  /** `"schema"."name"`. */
  readonly quoted: string
  readonly columns: readonly TableColumn[]
  /**
   * The table does not exist yet and is to be created from its first records (autoCreateTable and
   * autoEvolve without a load schema: table-writer.ts); `columns` is empty until then.
   */
  readonly absent?: true
}

type Query = Pick<PgSession, 'query'>

/** Reads a table's columns from the catalog; an empty list means the table does not exist. */
export async function readColumns(db: Query, schema: string, name: string): Promise<TableColumn[]> {
  const r = await db.query<{ name: string; type: string; udt: string; category: string; has_default: boolean; not_null: boolean; generated: boolean }>(
    sqlText('table-columns'),
    [schema, name],
  )
  return r.rows.map((c) => ({ name: c.name, type: c.type, udt: c.udt, category: c.category, hasDefault: c.has_default, notNull: c.not_null, generated: c.generated }))
}

/** `CREATE TABLE IF NOT EXISTS` for a set of column types and an optional primary key. */
export function createTableSql(quotedTable: string, columns: Readonly<Record<string, string>>, primaryKey: readonly string[] = []): string {
  const defs = Object.entries(columns).map(([name, type]) => `${quoteIdent(name)} ${checkSqlType(type)}`)
  if (defs.length === 0) throw new SluiceError('SINK_SCHEMA', `cannot create ${quotedTable} without columns`)
  for (const k of primaryKey) {
    if (!(k in columns)) throw new SluiceError('SINK_SCHEMA', `primary key column ${k} is not among the columns of ${quotedTable}`)
  }
  if (primaryKey.length > 0) defs.push(`PRIMARY KEY (${primaryKey.map(quoteIdent).join(', ')})`)
  return `CREATE TABLE IF NOT EXISTS ${quotedTable} (${defs.join(', ')})`
}

/**
 * Creates `schema.name` from a load schema when absent and returns its description. Exported so that
 * the engine (which reads the schema file) can also call it directly.
 */
export async function ensureTable(db: Query, schema: string, name: string, loadSchema: LoadSchema): Promise<TableInfo> {
  const quoted = quoteName(schema, name)
  await db.query(createTableSql(quoted, loadSchema.columns, loadSchema.primaryKey))
  return { schema, name, quoted, columns: await readColumns(db, schema, name) }
}

/**
 * Describes the target table, creating it from `loadSchema` when absent and allowed. Throws SINK_SCHEMA
 * when the table is missing, or lacks a column the load schema names; without a load schema, with
 * autoCreateTable and `evolve`, a missing table is described as `absent` (created from its first records). With `evolve` (autoEvolve) the
 * table is described whole: a column the load schema names and the table lacks is added when its
 * field arrives, and every field that reaches the writer is loaded into its column (evolve.ts).
 */
export async function resolveTable(db: Query, schema: string, name: string, loadSchema: LoadSchema | undefined, autoCreate: boolean, evolve = false): Promise<TableInfo> {
  let columns: readonly TableColumn[] = await readColumns(db, schema, name)
  const quoted = quoteName(schema, name)
  if (columns.length === 0) {
    // Without a load schema, autoEvolve makes the table follow the data from its first records on.
    if (loadSchema === undefined && autoCreate && evolve) return { schema, name, quoted, columns: [], absent: true }
    if (loadSchema === undefined || !autoCreate) {
      throw new SluiceError('SINK_SCHEMA', `table ${schema}.${name} does not exist${loadSchema === undefined ? ' (no load schema to create it from; with autoEvolve it is created from its first records)' : ' and autoCreateTable is false'}`)
    }
    columns = (await ensureTable(db, schema, name, loadSchema)).columns
  }
  if (loadSchema !== undefined && !evolve) {
    const present = new Set(columns.map((c) => c.name))
    const missing = Object.keys(loadSchema.columns).filter((c) => !present.has(c))
    if (missing.length > 0) throw new SluiceError('SINK_SCHEMA', `table ${schema}.${name} has no column ${missing.join(', ')} named in the load schema`)
    const wanted = new Set(Object.keys(loadSchema.columns))
    columns = columns.filter((c) => wanted.has(c.name))
  }
  return { schema, name, quoted, columns }
}

function someRowHas(rows: readonly Row[], name: string): boolean {
  const lower = name.toLowerCase()
  const field = fieldName(name)
  for (const r of rows) {
    // A row left unparsed answers from its spans (a JSON null is a value: the column is listed).
    if (r.flat !== undefined) {
      const i = findField(r.flat, field, 0)
      if (i === ABSENT) continue
      if (i !== ASK_VALUES) return true
    }
    if (fieldValue(r.values, name, lower) !== undefined) return true
  }
  return false
}

/**
 * The columns a COPY of `rows` fills. Generated columns are never listed; a column with a default is
 * listed only when some row carries it, so that it keeps its default otherwise. `required` columns
 * (upsert keys) are always listed.
 */
export function copyColumns(table: TableInfo, rows: readonly Row[], required: readonly string[] = []): CopyColumn[] {
  const out: CopyColumn[] = []
  for (const c of table.columns) {
    if (c.generated) continue
    if (c.hasDefault && !required.includes(c.name) && !someRowHas(rows, c.name)) continue
    out.push({ name: c.name, encode: encoderFor(c.udt, c.category), flat: flatPolicyFor(c.udt, c.category) })
  }
  return out
}
