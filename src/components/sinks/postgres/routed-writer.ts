/**
 * The table writer of a `{topic}` template in `load.table` (table-template.ts): the rows of a batch
 * are grouped by the table their source topic names, and each group is written by that table's own
 * PostgresTableWriter on the one batch transaction the store opened (the tracker row, the positions
 * and every table commit or roll back together). A table is resolved, or created from the load
 * schema (autoCreateTable), inside the transaction of the first batch that has records for it, so a
 * rolled-back batch forgets the table it created. Deletes, merges and removed keys are refused by
 * validation (config/pipeline.ts): their keys carry no topic to route by.
 */
import type { ComponentContext } from '../../../api/component.ts'
import type { Row } from '../../../api/record.ts'
import type { RejectedRow, TableBatch, TableWriteResult, TableWriter } from '../../../api/writer.ts'
import { configInvalid } from '../../../config/issues.ts'
import { SluiceError } from '../../../errors.ts'
import type { LoadSchema } from './columns.ts'
import type { PostgresLoadConfig } from './config.ts'
import { qualifiedText } from './sql/quote.ts'
import type { PgBatchTx, PostgresStore } from './store.ts'
import { PostgresTableWriter } from './table-writer.ts'
import { routedTable, tableTemplate, type TableTemplate } from './table-template.ts'

/** The rows of one target table; `table` is its text as splitQualified reads it (`raw_orders`, `s.raw_orders`). */
export interface TableGroup {
  readonly table: string
  readonly rows: Row[]
}

/**
 * Groups rows by the table their topic names, in the order of the table names (so two workers
 * writing the same tables lock them in the same order), rows in batch order within a table. Rows
 * whose name is too long are returned as rejected (RECORD_ROUTE).
 */
export function groupRowsByTable(template: TableTemplate, rows: readonly Row[]): { groups: TableGroup[]; misrouted: RejectedRow[] } {
  const byTable = new Map<string, Row[]>()
  const byTopic = new Map<string, string | SluiceError>()
  const misrouted: RejectedRow[] = []
  for (const row of rows) {
    const topic = row.source.topic
    let target = byTopic.get(topic)
    if (target === undefined) {
      const t = routedTable(template, topic)
      target = t instanceof SluiceError ? t : qualifiedText(t)
      byTopic.set(topic, target)
    }
    if (target instanceof SluiceError) {
      misrouted.push({ row, error: target })
      continue
    }
    const group = byTable.get(target)
    if (group === undefined) byTable.set(target, [row])
    else group.push(row)
  }
  const groups = [...byTable.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([table, rs]) => ({ table, rows: rs }))
  return { groups, misrouted }
}

export class RoutedTableWriter implements TableWriter<PgBatchTx> {
  readonly #config: PostgresLoadConfig
  readonly #store: PostgresStore
  readonly #ctx: ComponentContext
  readonly #loadSchema: LoadSchema | undefined
  readonly #template: TableTemplate
  /** One writer per table seen; each caches its table's description (forgotten when its batch rolls back). */
  readonly #writers = new Map<string, PostgresTableWriter>()

  constructor(config: PostgresLoadConfig, store: PostgresStore, ctx: ComponentContext, loadSchema?: LoadSchema) {
    this.#config = config
    this.#store = store
    this.#ctx = ctx
    this.#loadSchema = loadSchema
    this.#template = tableTemplate(config.table)
  }

  /** No table is known before records arrive; an upsert must name its keys now (each table's key is not read). */
  async open(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (this.#config.writeMode !== 'upsert' || this.#config.upsertKeys !== undefined || (this.#loadSchema?.primaryKey ?? []).length > 0) return
    // validate finds this too (runtime/schemas.ts); kept here for a writer made without it.
    throw configInvalid([{ path: 'load.upsertKeys', value: undefined, message: `required with the {topic} template ${JSON.stringify(this.#config.table)} in load.table (the same key columns in every table), unless the load schema has a primaryKey` }])
  }

  #writerFor(table: string): PostgresTableWriter {
    let writer = this.#writers.get(table)
    if (writer === undefined) {
      writer = new PostgresTableWriter({ ...this.#config, table }, this.#store, this.#ctx, this.#loadSchema)
      this.#writers.set(table, writer)
    }
    return writer
  }

  async write(tx: PgBatchTx, batch: TableBatch, isolate: boolean): Promise<TableWriteResult> {
    if ((batch.deletes?.length ?? 0) > 0 || (batch.removed?.length ?? 0) > 0 || batch.merge !== undefined) {
      throw new SluiceError('INTERNAL', `load.table ${JSON.stringify(this.#config.table)} routes by topic: deletes and aggregate merges are refused by validation`)
    }
    const { groups, misrouted } = groupRowsByTable(this.#template, batch.rows)
    if (misrouted.length > 0 && !isolate) throw (misrouted[0] as RejectedRow).error
    let written = 0
    const rejected: RejectedRow[] = [...misrouted]
    for (const group of groups) {
      const r = await this.#writerFor(group.table).write(tx, { rows: group.rows }, isolate)
      written += r.written
      rejected.push(...r.rejected)
    }
    return { written, rejected }
  }

  /** The load schema's columns when there is one (every table has them); else unknown: every metadata field is added. */
  async targetColumns(): Promise<readonly string[] | null> {
    return this.#loadSchema === undefined ? null : Object.keys(this.#loadSchema.columns)
  }
}
