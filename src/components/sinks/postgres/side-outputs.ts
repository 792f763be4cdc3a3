/**
 * Writes side outputs (DLQ rows, late rows, outbox rows) by COPY in the batch's transaction, creating
 * each table from its declared column types when absent. Table descriptions are cached by the sink,
 * but only once the transaction that created them has committed (see `SideTables`).
 */
import type { SideOutput } from '../../../reliability/dlq.ts'
import { SluiceError } from '../../../errors.ts'
import { sqlState } from './classify-error.ts'
import { createTableSql, readColumns, type TableInfo } from './columns.ts'
import { encodeRows, encoderFor, type ChunkLimits, type CopyColumn } from './copy-encode.ts'
import type { PgSession } from './driver.ts'
import { quoteIdent, quoteName, splitQualified } from './sql/quote.ts'

/** Descriptions of side tables: `known` survived a commit, `pending` were read in the open transaction. */
export class SideTables {
  readonly known = new Map<string, TableInfo>()
  pending = new Map<string, TableInfo>()

  /** Moves this transaction's descriptions to the cache (call after COMMIT). */
  commit(): void {
    for (const [k, v] of this.pending) this.known.set(k, v)
    this.pending = new Map()
  }

  /** Forgets this transaction's descriptions (call after ROLLBACK). */
  rollback(): void {
    this.pending = new Map()
  }
}

async function describe(tx: PgSession, out: SideOutput, defaultSchema: string, tables: SideTables): Promise<TableInfo> {
  const { schema = defaultSchema, name } = splitQualified(out.table)
  const quoted = quoteName(schema, name)
  const cached = tables.known.get(quoted) ?? tables.pending.get(quoted)
  if (cached !== undefined) return cached
  // Another pipeline may create the same table (a shared DLQ, the outbox) at this very moment:
  // IF NOT EXISTS still races on the catalog. The savepoint keeps the batch's transaction usable.
  await tx.query('SAVEPOINT sluice_side_table')
  try {
    await tx.query(createTableSql(quoted, out.columns))
    await tx.query('RELEASE SAVEPOINT sluice_side_table')
  } catch (err) {
    const state = sqlState(err)
    if (state !== '23505' && state !== '42P07' && state !== '42710') throw err
    await tx.query('ROLLBACK TO SAVEPOINT sluice_side_table')
  }
  const info: TableInfo = { schema, name, quoted, columns: await readColumns(tx, schema, name) }
  tables.pending.set(quoted, info)
  return info
}

/** COPYs every side output's rows into its table; returns the rows written. */
export async function writeSideOutputs(tx: PgSession, outputs: readonly SideOutput[], defaultSchema: string, tables: SideTables, limits: ChunkLimits): Promise<number> {
  let written = 0
  for (const out of outputs) {
    if (out.rows.length === 0) continue
    const info = await describe(tx, out, defaultSchema, tables)
    const byName = new Map(info.columns.map((c) => [c.name, c]))
    const columns: CopyColumn[] = []
    for (const name of Object.keys(out.columns)) {
      const c = byName.get(name)
      if (c === undefined) throw new SluiceError('SINK_SCHEMA', `side table ${info.schema}.${info.name} has no column ${name}`)
      columns.push({ name, encode: encoderFor(c.udt, c.category) })
    }
    written += await tx.copyFrom(info.quoted, columns.map((c) => quoteIdent(c.name)), encodeRows(out.rows, columns, 0, out.rows.length, limits))
  }
  return written
}
