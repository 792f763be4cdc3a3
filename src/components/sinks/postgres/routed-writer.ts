/**
 * The table writer of a `{topic}` template in `load.table` (table-template.ts): the rows of a batch
 * are grouped by the table their source topic names, and each group is written by that table's own
 * PostgresTableWriter on the one batch transaction the store opened (the tracker row, the positions
 * and every table commit or roll back together). A table is resolved, or created from the load
 * schema (autoCreateTable), inside the transaction of the first batch that has records for it, so a
 * rolled-back batch forgets the table it created. A batch's deletes (tombstones with
 * deleteOnTombstone, Debezium `d` events) go to the table of their topic (`deleteTopics`), after that
 * table's rows, as with one table. Aggregate merges and removed keys are refused by validation
 * (config/pipeline.ts): a result row has no topic to route by.
 */
import type { ComponentContext } from '../../../api/component.ts'
import type { Row, RowValues } from '../../../api/record.ts'
import type { RejectedRow, TableBatch, TableWriteResult, TableWriter } from '../../../api/writer.ts'
import { configInvalid } from '../../../config/issues.ts'
import { SluiceError } from '../../../errors.ts'
import type { LoadSchema } from './columns.ts'
import type { PostgresLoadConfig } from './config.ts'
import { qualifiedText } from './sql/quote.ts'
import type { ValueEnvelope } from '../../../api/source.ts'
import type { PgBatchTx, PostgresStore } from './store.ts'
import { PostgresTableWriter } from './table-writer.ts'
import { routedTable, tableTemplate, type TableTemplate } from './table-template.ts'

/** The rows and deletes of one target table; `table` is its text as splitQualified reads it (`raw_orders`, `s.raw_orders`). */
export interface TableGroup {
  readonly table: string
  readonly rows: Row[]
  readonly deletes: RowValues[]
}

/** A delete's key and the topic it came from. */
export interface RoutedDelete {
  readonly key: RowValues
  readonly topic: string
}

/**
 * Groups rows and deletes by the table their topic names, in the order of the table names (so two
 * workers writing the same tables lock them in the same order), rows and deletes in batch order
 * within a table. Rows whose name is too long are returned as rejected (RECORD_ROUTE); the record
 * path sends such topics to the DLQ before (RecordPathOptions.routing), so none is expected here.
 */
export function groupRowsByTable(template: TableTemplate, rows: readonly Row[], deletes: readonly RoutedDelete[] = []): { groups: TableGroup[]; misrouted: RejectedRow[] } {
  const byTable = new Map<string, TableGroup>()
  const byTopic = new Map<string, string | SluiceError>()
  const targetOf = (topic: string): string | SluiceError => {
    let target = byTopic.get(topic)
    if (target === undefined) {
      const t = routedTable(template, topic)
      target = t instanceof SluiceError ? t : qualifiedText(t)
      byTopic.set(topic, target)
    }
    return target
  }
  const groupOf = (table: string): TableGroup => {
    let group = byTable.get(table)
    if (group === undefined) {
      group = { table, rows: [], deletes: [] }
      byTable.set(table, group)
    }
    return group
  }
  const misrouted: RejectedRow[] = []
  for (const row of rows) {
    const target = targetOf(row.source.topic)
    if (target instanceof SluiceError) misrouted.push({ row, error: target })
    else groupOf(target).rows.push(row)
  }
  for (const d of deletes) {
    const target = targetOf(d.topic)
    // A delete has no record left to send to the DLQ: the record path routed its topic there already.
    if (target instanceof SluiceError) throw new SluiceError('INTERNAL', `a delete of topic ${d.topic} reached the writer: ${target.message}`)
    groupOf(target).deletes.push(d.key)
  }
  const groups = [...byTable.values()].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0))
  return { groups, misrouted }
}

export class RoutedTableWriter implements TableWriter<PgBatchTx> {
  readonly #config: PostgresLoadConfig
  readonly #store: PostgresStore
  readonly #ctx: ComponentContext
  readonly #loadSchema: LoadSchema | undefined
  readonly #template: TableTemplate
  readonly #envelope: ValueEnvelope
  /** One writer per table seen; each caches its table's description (forgotten when its batch rolls back). */
  readonly #writers = new Map<string, PostgresTableWriter>()

  constructor(config: PostgresLoadConfig, store: PostgresStore, ctx: ComponentContext, loadSchema?: LoadSchema, envelope: ValueEnvelope = 'none') {
    this.#config = config
    this.#store = store
    this.#ctx = ctx
    this.#loadSchema = loadSchema
    this.#envelope = envelope
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
      writer = new PostgresTableWriter({ ...this.#config, table }, this.#store, this.#ctx, this.#loadSchema, this.#envelope)
      this.#writers.set(table, writer)
    }
    return writer
  }

  async write(tx: PgBatchTx, batch: TableBatch, isolate: boolean): Promise<TableWriteResult> {
    if ((batch.removed?.length ?? 0) > 0 || batch.merge !== undefined) {
      throw new SluiceError('INTERNAL', `load.table ${JSON.stringify(this.#config.table)} routes by topic: aggregate merges are refused by validation`)
    }
    const keys = batch.deletes ?? []
    const topics = batch.deleteTopics ?? []
    if (topics.length !== keys.length) throw new SluiceError('INTERNAL', `load.table ${JSON.stringify(this.#config.table)} routes by topic: ${keys.length} deletes came with ${topics.length} topics`)
    const deletes = keys.map((key, i) => ({ key, topic: topics[i] as string }))
    const { groups, misrouted } = groupRowsByTable(this.#template, batch.rows, deletes)
    if (misrouted.length > 0 && !isolate) throw (misrouted[0] as RejectedRow).error
    let written = 0
    const rejected: RejectedRow[] = [...misrouted]
    for (const group of groups) {
      const r = await this.#writerFor(group.table).write(tx, { rows: group.rows, ...(group.deletes.length > 0 ? { deletes: group.deletes } : {}) }, isolate)
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
