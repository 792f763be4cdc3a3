/**
 * Writes the target table inside the store's batch transaction: resolves the table once (created
 * from the load schema when allowed), picks the upsert keys (configured, or the table's own key read
 * at open so that a table without one stops the run at start), and writes rows by write mode,
 * isolating refused rows (loader.ts), then the tombstone deletes of an upsert.
 */
import type { ComponentContext, Logger } from '../../../api/component.ts'
import type { TableBatch, TableWriteResult, TableWriter } from '../../../api/writer.ts'
import { SluiceError } from '../../../errors.ts'
import { resolveTable, type LoadSchema, type TableInfo } from './columns.ts'
import type { PostgresLoadConfig } from './config.ts'
import { DEFAULT_CHUNK, type ChunkLimits } from './copy-encode.ts'
import { deleteByKeys, writeRows, type LoadMode } from './loader.ts'
import { splitQualified } from './sql/quote.ts'
import type { PgBatchTx, PostgresStore } from './store.ts'
import { chooseUpsertKey, readUniqueKeys } from './upsert-keys.ts'

/** COPY chunk limits of a load config (`connectionParams.batchsize` caps the rows per chunk). */
export function chunkLimits(config: PostgresLoadConfig): ChunkLimits {
  const rows = config.connectionParams.batchsize
  return rows !== undefined && rows > 0 ? { rows, chars: DEFAULT_CHUNK.chars } : DEFAULT_CHUNK
}

export class PostgresTableWriter implements TableWriter<PgBatchTx> {
  readonly #config: PostgresLoadConfig
  readonly #store: PostgresStore
  readonly #loadSchema: LoadSchema | undefined
  readonly #log: Logger
  readonly #limits: ChunkLimits
  #table: TableInfo | undefined
  /** The table's own key, when an upsert names no keys and the load schema no primaryKey (read at open). */
  #tableKey: readonly string[] | undefined

  constructor(config: PostgresLoadConfig, store: PostgresStore, ctx: ComponentContext, loadSchema?: LoadSchema) {
    this.#config = config
    this.#store = store
    this.#loadSchema = loadSchema
    this.#log = ctx.logger.child({ component: 'postgres-table' })
    this.#limits = chunkLimits(config)
  }

  async open(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (this.#upsertKeysGiven() !== null || this.#tableKey !== undefined) {
      // Described now, outside any batch transaction; a missing table is reported by the first write.
      await this.targetColumns()
      return
    }
    try {
      // Found now, not at the first write: a table without a key stops the run at start.
      const table = await this.#target()
      this.#tableKey = chooseUpsertKey(table, await readUniqueKeys(this.#store.tracker.driver, table.schema, table.name))
      this.#log.info({ table: `${table.schema}.${table.name}`, upsertKeys: this.#tableKey }, "upsert on the table's key")
    } catch (err) {
      throw this.#store.fail(err, `reading the key of ${this.#config.table}`)
    }
  }

  /**
   * The target table, described once (created from the load schema when allowed): at open on the
   * store's connection, or else inside a batch transaction, whose rollback forgets it again (a table
   * created in a rolled-back transaction does not exist).
   */
  async #target(tx?: PgBatchTx): Promise<TableInfo> {
    if (this.#table !== undefined) return this.#table
    const tracker = this.#store.tracker
    const { schema = tracker.schema, name } = splitQualified(this.#config.table)
    const table = await resolveTable(tx?.session ?? tracker.driver, schema, name, this.#loadSchema, this.#config.autoCreateTable)
    tx?.onRollback(() => {
      if (this.#table === table) this.#table = undefined
    })
    this.#table = table
    return table
  }

  /** An upsert's keys as configured: upsertKeys, else the load schema's primaryKey; null when neither names any. */
  #upsertKeysGiven(): readonly string[] | null {
    if (this.#config.writeMode !== 'upsert') return []
    const schemaKey = this.#loadSchema?.primaryKey ?? []
    return this.#config.upsertKeys ?? (schemaKey.length > 0 ? schemaKey : null)
  }

  #mode(table: TableInfo, batch: TableBatch): LoadMode {
    const config = this.#config
    if (config.writeMode !== 'upsert') {
      if (batch.merge !== undefined) throw new SluiceError('CONFIG_INVALID', `the aggregate step merges into ${config.table} by key: it needs writeMode upsert (writeMode is ${config.writeMode})`)
      return { writeMode: config.writeMode, keys: [], limits: this.#limits }
    }
    const wanted = this.#upsertKeysGiven() ?? this.#tableKey ?? []
    if (wanted.length === 0) throw new SluiceError('INTERNAL', `writeMode upsert on ${config.table}: the table's key was not read at open`)
    const keys = wanted.map((k) => {
      const col = table.columns.find((c) => c.name === k) ?? table.columns.find((c) => c.name.toLowerCase() === k.toLowerCase())
      if (col === undefined) throw new SluiceError('SINK_SCHEMA', `upsert key ${k} is not a column of ${table.schema}.${table.name}`)
      return col.name
    })
    return { writeMode: 'upsert', keys, limits: this.#limits, ...(batch.merge === undefined ? {} : { merge: batch.merge }) }
  }

  async write(tx: PgBatchTx, batch: TableBatch, isolate: boolean): Promise<TableWriteResult> {
    try {
      const table = await this.#target(tx)
      const mode = this.#mode(table, batch)
      const rows = await writeRows(tx.session, table, batch.rows, mode, isolate)
      // The engine decides what deletes (tombstones with deleteOnTombstone, Debezium d events): a batch has deletes only then.
      if (mode.writeMode === 'upsert' && batch.deletes !== undefined && batch.deletes.length > 0) await deleteByKeys(tx.session, table, mode.keys, batch.deletes)
      if (mode.writeMode === 'upsert' && batch.removed !== undefined && batch.removed.length > 0) await deleteByKeys(tx.session, table, mode.keys, batch.removed)
      return rows
    } catch (err) {
      throw this.#store.fail(err, `writing to ${this.#config.table}`)
    }
  }

  /** Column names of the target table (resolving or creating it now), for the engine's metadata fields. */
  async targetColumns(): Promise<readonly string[] | null> {
    try {
      return (await this.#target()).columns.map((c) => c.name)
    } catch (err) {
      // The write reports a missing table with its own error; here it only means "unknown".
      this.#log.debug({ err: this.#store.fail(err, 'reading the target columns').message }, 'target columns unknown')
      return null
    }
  }
}
