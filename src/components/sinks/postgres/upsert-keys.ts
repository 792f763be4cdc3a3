/**
 * The key of an upsert that names no `upsertKeys` (the seed's upsert names none): the load schema's
 * primaryKey, else the target table's primary key, else its one unique key, read from the catalog
 * when the sink opens. With none, or several unique keys and no primary key, the run cannot know
 * which rows are "the same" and stops at start with CONFIG_INVALID naming the table.
 */
import { SluiceError } from '../../../errors.ts'
import type { TableInfo } from './columns.ts'
import type { PgSession } from './driver.ts'
import { sqlText } from './sql/sql-files.ts'

/** One unique key of a table usable as an ON CONFLICT target. */
export interface UniqueKey {
  readonly name: string
  readonly primary: boolean
  readonly columns: readonly string[]
}

/** The primary key and unique indexes of a table that ON CONFLICT can infer (primary key first). */
export async function readUniqueKeys(db: Pick<PgSession, 'query'>, schema: string, name: string): Promise<UniqueKey[]> {
  // text[] comes back as an array from both drivers (pg-types and PGlite parse it).
  const r = await db.query<{ name: string; is_primary: boolean; columns: string[] }>(sqlText('table-unique-keys'), [schema, name])
  return r.rows.map((k) => ({ name: k.name, primary: k.is_primary, columns: k.columns }))
}

/** Chooses the upsert key among a table's unique keys, or says why there is none to choose. */
export function chooseUpsertKey(table: Pick<TableInfo, 'schema' | 'name'>, keys: readonly UniqueKey[]): readonly string[] {
  const where = `${table.schema}.${table.name}`
  const primary = keys.find((k) => k.primary)
  if (primary !== undefined) return primary.columns
  if (keys.length === 1 && keys[0] !== undefined) return keys[0].columns
  if (keys.length === 0) {
    throw new SluiceError('CONFIG_INVALID', `writeMode upsert names no upsertKeys, and table ${where} has neither a primary key nor a unique constraint to upsert on: set load.upsertKeys, or give the table a primary key`, {
      details: { path: 'load.upsertKeys', table: where },
    })
  }
  const list = keys.map((k) => `${k.name} (${k.columns.join(', ')})`).join(', ')
  throw new SluiceError('CONFIG_INVALID', `writeMode upsert names no upsertKeys, and table ${where} has no primary key but several unique constraints: ${list}; set load.upsertKeys to one of them`, {
    details: { path: 'load.upsertKeys', table: where },
  })
}
