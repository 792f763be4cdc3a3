/**
 * Writes the target table inside the store's batch transaction: resolves the table once (created
 * from the load schema when allowed), picks the upsert keys (configured, or the table's own key read
 * at open so that a table without one stops the run at start), and writes rows by write mode,
 * isolating refused rows (loader.ts), then the tombstone deletes of an upsert.
 *
 * With autoEvolve, the columns a batch's fields need are added first, in the batch transaction
 * (evolve.ts). `ALTER TABLE` holds the table's ACCESS EXCLUSIVE lock until the batch commits, so
 * two workers adding the same column take turns: the second waits, then `IF NOT EXISTS` finds the
 * first one's column and adds nothing. Either way the writer reads the columns again after its
 * ALTER and writes by what the table has (the other worker's type, when theirs came first). A
 * rolled-back batch forgets that description, as it forgets a table it created.
 */
import type { ComponentContext, Logger } from '../../../api/component.ts'
import type { Row } from '../../../api/record.ts'
import type { ValueEnvelope } from '../../../api/source.ts'
import type { RejectedRow, TableBatch, TableWriteResult, TableWriter } from '../../../api/writer.ts'
import { SluiceError } from '../../../errors.ts'
import { createTableSql, readColumns, resolveTable, type LoadSchema, type TableInfo } from './columns.ts'
import type { PostgresLoadConfig } from './config.ts'
import { DEFAULT_CHUNK, type ChunkLimits } from './copy-encode.ts'
import { addColumnsSql, newFields, planEvolution } from './evolve.ts'
import { deleteByKeys, writeRows, type LoadMode } from './loader.ts'
import { splitQualified } from './sql/quote.ts'
import type { PgBatchTx, PostgresStore } from './store.ts'
import { chooseUpsertKey, readUniqueKeys } from './upsert-keys.ts'

/** COPY chunk limits of a load config (`connectionParams.batchsize` caps the rows per chunk). */
export function chunkLimits(config: PostgresLoadConfig): ChunkLimits {
  const rows = config.connectionParams.batchsize
  return rows !== undefined && rows > 0 ? { rows, chars: DEFAULT_CHUNK.chars } : DEFAULT_CHUNK
}

/** Rows of a batch looked at for fields without a column when autoEvolve is off. */
const UNLOADED_SAMPLE = 256

/** At most `n` rows of `rows`, spread evenly, the last one included. */
function sample<T>(rows: readonly T[], n: number): readonly T[] {
  if (rows.length <= n) return rows
  const step = rows.length / n
  const out: T[] = []
  for (let i = 0; i < n - 1; i++) out.push(rows[Math.floor(i * step)] as T)
  out.push(rows[rows.length - 1] as T)
  return out
}

export class PostgresTableWriter implements TableWriter<PgBatchTx> {
  readonly #config: PostgresLoadConfig
  readonly #store: PostgresStore
  readonly #loadSchema: LoadSchema | undefined
  readonly #log: Logger
  readonly #limits: ChunkLimits
  readonly #envelope: ValueEnvelope
  /** With a column mapping: its columns, the only ones evolution adds (and warns about). */
  readonly #mapped: ReadonlySet<string> | undefined
  /** Fields already reported as not loaded (autoEvolve off): each is logged once. */
  readonly #unloaded = new Set<string>()
  #table: TableInfo | undefined
  /** The table's own key, when an upsert names no keys and the load schema no primaryKey (read at open). */
  #tableKey: readonly string[] | undefined

  constructor(config: PostgresLoadConfig, store: PostgresStore, ctx: ComponentContext, loadSchema?: LoadSchema, envelope: ValueEnvelope = 'none') {
    this.#config = config
    this.#envelope = envelope
    this.#mapped = config.columnMapping === undefined ? undefined : new Set(Object.keys(config.columnMapping))
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
    const table = await resolveTable(tx?.session ?? tracker.driver, schema, name, this.#loadSchema, this.#config.autoCreateTable, this.#config.autoEvolve)
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
      let table = await this.#target(tx)
      // Deletes only, for a table that was never created: no row they could remove exists.
      if (table.absent === true && batch.rows.length === 0) return { written: 0, rejected: [] }
      if (table.absent === true) table = await this.#create(tx, table, batch.rows)
      let fit = batch.rows
      let refused: readonly RejectedRow[] = []
      if (this.#config.autoEvolve) ({ table, fit, refused } = await this.#evolve(tx, table, batch.rows, isolate))
      else this.#reportUnloaded(table, batch.rows)
      const mode = this.#mode(table, batch)
      const written = await writeRows(tx.session, table, fit, mode, isolate)
      const rows = refused.length === 0 ? written : { written: written.written, rejected: [...refused, ...written.rejected] }
      // The engine decides what deletes (tombstones with deleteOnTombstone, Debezium d events): a batch has deletes only then.
      if (mode.writeMode === 'upsert' && batch.deletes !== undefined && batch.deletes.length > 0) await deleteByKeys(tx.session, table, mode.keys, batch.deletes)
      if (mode.writeMode === 'upsert' && batch.removed !== undefined && batch.removed.length > 0) await deleteByKeys(tx.session, table, mode.keys, batch.removed)
      return rows
    } catch (err) {
      throw this.#store.fail(err, `writing to ${this.#config.table}`)
    }
  }

  /**
   * Adds the columns the batch's fields need (autoEvolve), inside the batch transaction, and gives
   * the table as it is then. Rows whose field name no column can have are refused (dead letters
   * with isolate, else the batch fails on the first).
   */
  async #evolve(tx: PgBatchTx, table: TableInfo, rows: readonly Row[], isolate: boolean): Promise<{ table: TableInfo; fit: readonly Row[]; refused: readonly RejectedRow[] }> {
    const plan = planEvolution(table, rows, { loadSchema: this.#loadSchema, envelope: this.#envelope, only: this.#mapped })
    if (plan.refused.length > 0 && !isolate) throw (plan.refused[0] as RejectedRow).error
    const out = new Set(plan.refused.map((r) => r.row))
    const fit = out.size === 0 ? rows : rows.filter((r) => !out.has(r))
    if (plan.add.length === 0) return { table, fit, refused: plan.refused }
    await tx.session.query(addColumnsSql(table.quoted, plan.add))
    const evolved: TableInfo = { ...table, columns: await readColumns(tx.session, table.schema, table.name) }
    this.#table = evolved
    tx.onRollback(() => {
      if (this.#table === evolved) this.#table = undefined
    })
    tx.onCommit(() => {
      for (const c of plan.add) this.#log.info({ table: `${table.schema}.${table.name}`, column: c.name, type: evolved.columns.find((e) => e.name === c.name)?.type ?? c.type, typeFrom: c.from }, 'column added (autoEvolve)')
    })
    return { table: evolved, fit, refused: plan.refused }
  }

  /**
   * Creates a missing table from its first records (autoCreateTable with autoEvolve, no load
   * schema), inside the batch transaction: the columns evolution would add to an empty table, and
   * the upsert keys as its primary key. `IF NOT EXISTS`: another worker may have created it first;
   * then the evolution that follows adds what its columns lack. A rollback forgets the table.
   */
  async #create(tx: PgBatchTx, absent: TableInfo, rows: readonly Row[]): Promise<TableInfo> {
    const plan = planEvolution(absent, rows, { loadSchema: undefined, envelope: this.#envelope, only: this.#mapped })
    const keys = this.#upsertKeysGiven() ?? []
    const types: Record<string, string> = {}
    for (const c of plan.add) types[c.name] = c.type
    const missingKeys = keys.filter((k) => !Object.hasOwn(types, k))
    if (missingKeys.length > 0) {
      throw new SluiceError('SINK_SCHEMA', `cannot create ${absent.schema}.${absent.name} from its first records: upsert key ${missingKeys.join(', ')} has no value in them`)
    }
    if (plan.add.length === 0) throw new SluiceError('SINK_SCHEMA', `cannot create ${absent.schema}.${absent.name} from its first records: none of their fields has a value`)
    await tx.session.query(createTableSql(absent.quoted, types, keys))
    const created: TableInfo = { schema: absent.schema, name: absent.name, quoted: absent.quoted, columns: await readColumns(tx.session, absent.schema, absent.name) }
    this.#table = created
    tx.onRollback(() => {
      if (this.#table === created) this.#table = undefined
    })
    tx.onCommit(() => {
      this.#log.info({ table: `${absent.schema}.${absent.name}`, columns: plan.add.map((c) => `${c.name} ${c.type} (${c.from})`), primaryKey: keys }, 'table created from its first records (autoEvolve)')
    })
    return created
  }

  /**
   * autoEvolve off: a field with values and no column is not loaded. Said once per field (a warning),
   * not silently; with a load schema that is what the schema means (only its columns), so nothing is said.
   * Only a sample of a large batch is looked at (every field of every row measured 10-40 % of the
   * COPY encoding): a field that a share of the records carries is found, a very rare one may not be.
   */
  #reportUnloaded(table: TableInfo, rows: readonly Row[]): void {
    if (this.#loadSchema !== undefined || rows.length === 0) return
    const fields = newFields(table, sample(rows, UNLOADED_SAMPLE), this.#mapped)
    for (const name of fields.keys()) {
      if (this.#unloaded.has(name)) continue
      this.#unloaded.add(name)
      this.#log.warn({ table: `${table.schema}.${table.name}`, field: name.slice(0, 200) }, `field ${name.slice(0, 200)} has no column in ${table.schema}.${table.name} and is not loaded: add the column, or set load.autoEvolve`)
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
