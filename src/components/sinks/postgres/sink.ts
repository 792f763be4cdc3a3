/**
 * The PostgreSQL sink: the one commit point of Sluice. `write` runs one transaction that
 *   1. (exactly-once) inserts the batch's tracker row, ON CONFLICT DO NOTHING: nothing inserted means
 *      the batch is already committed, so it rolls back and reports `duplicate`. The check is inside
 *      the transaction, and the primary-key row lock makes a concurrent duplicate wait for the outcome;
 *   2. (exactly-once) compare-and-sets each partition's stored position from the batch's start to its
 *      end, or fails with SINK_FENCED (another worker committed that partition);
 *   3. writes the rows by write mode, isolating refused rows (loader.ts);
 *   4. writes side outputs (the batch's, plus what the reject handler made of refused rows);
 *   5. (exactly-once) records the last batch id and the watermark.
 * With `exactlyOnce: false` only steps 3 and 4 run: plain at-least-once.
 */
import { failpoint } from '../../../failpoint.ts'
import type { ComponentContext, Logger } from '../../../api/component.ts'
import type { CommittedState, RejectHandler, Sink, SinkBatch, WriteResult } from '../../../api/sink.ts'
import { SluiceError } from '../../../errors.ts'
import { classifyError } from './classify-error.ts'
import { readOnlyQuery, rowObjects } from './read-only.ts'
import { pipelineSchema } from './schema.ts'
import { resolveTable, type LoadSchema, type TableInfo } from './columns.ts'
import { connect, type Connection, type CredentialResolver } from './connection.ts'
import { DEFAULT_CHUNK, type ChunkLimits } from './copy-encode.ts'
import { deleteByKeys, writeRows, type LoadMode } from './loader.ts'
import type { PostgresLoadConfig } from './config.ts'
import { SideTables, writeSideOutputs } from './side-outputs.ts'
import { splitQualified } from './sql/quote.ts'
import { chooseUpsertKey, readUniqueKeys } from './upsert-keys.ts'
import { BatchTracker, type TrackerStatus } from './tracker.ts'

/** Extra inputs the engine passes when it creates the sink. */
export interface PostgresSinkOptions {
  /** Resolves `credentialId` (environment or credentials file). */
  readonly resolveCredential?: CredentialResolver
  /** The parsed load schema named by `schemaName`, when there is one. */
  readonly loadSchema?: LoadSchema
}

/** Thrown inside the transaction to roll back a duplicate batch. */
class DuplicateBatch extends Error {}

export class PostgresSink implements Sink {
  readonly config: PostgresLoadConfig
  readonly #ctx: ComponentContext
  readonly #options: PostgresSinkOptions
  readonly #log: Logger
  readonly #sideTables = new SideTables()
  #conn: Connection | undefined
  #tracker: BatchTracker | undefined
  #table: TableInfo | undefined
  /** The table's own key, when an upsert names no keys and the load schema no primaryKey (read at open). */
  #tableKey: readonly string[] | undefined
  #limits: ChunkLimits

  constructor(config: PostgresLoadConfig, ctx: ComponentContext, options: PostgresSinkOptions = {}) {
    this.config = config
    this.#ctx = ctx
    this.#options = options
    this.#log = ctx.logger.child({ component: 'postgres-sink' })
    const rows = config.connectionParams.batchsize
    this.#limits = rows !== undefined && rows > 0 ? { rows, chars: DEFAULT_CHUNK.chars } : DEFAULT_CHUNK
  }

  #secrets(): readonly string[] {
    return this.#conn?.secrets ?? []
  }

  #fail(err: unknown, what: string): SluiceError {
    return classifyError(err, what, this.#secrets())
  }

  /** The batch tracker (after open): seed-style operations for tests, `status` and `cleanup`. */
  get tracker(): BatchTracker {
    if (this.#tracker === undefined) throw new SluiceError('INTERNAL', 'postgres sink used before open()')
    return this.#tracker
  }

  async open(signal: AbortSignal): Promise<void> {
    if (this.#conn !== undefined) return
    signal.throwIfAborted()
    const conn = await connect(this.config, this.#ctx, this.#options.resolveCredential)
    this.#conn = conn
    try {
      const schema = await pipelineSchema(this.config, conn.driver)
      this.#tracker = new BatchTracker(conn.driver, schema)
      if (this.config.autoCreateTable) await this.#tracker.ensureTables()
      if (this.#upsertKeysGiven() === null) {
        // Found now, not at the first write: a table without a key stops the run at start.
        const table = await this.#target()
        this.#tableKey = chooseUpsertKey(table, await readUniqueKeys(conn.driver, table.schema, table.name))
        this.#log.info({ table: `${table.schema}.${table.name}`, upsertKeys: this.#tableKey }, "upsert on the table's key")
      }
      this.#log.info({ database: conn.display, schema }, 'postgres sink open')
    } catch (err) {
      const e = this.#fail(err, `opening ${conn.display}`)
      await this.close()
      throw e
    }
  }

  /** The target table, described once (created from the load schema when allowed). */
  async #target(): Promise<TableInfo> {
    if (this.#table !== undefined) return this.#table
    const { schema = this.tracker.schema, name } = splitQualified(this.config.table)
    this.#table = await resolveTable(this.tracker.driver, schema, name, this.#options.loadSchema, this.config.autoCreateTable)
    return this.#table
  }

  /** An upsert's keys as configured: upsertKeys, else the load schema's primaryKey; null when neither names any. */
  #upsertKeysGiven(): readonly string[] | null {
    if (this.config.writeMode !== 'upsert') return []
    const schemaKey = this.#options.loadSchema?.primaryKey ?? []
    return this.config.upsertKeys ?? (schemaKey.length > 0 ? schemaKey : null)
  }

  #mode(table: TableInfo): LoadMode {
    if (this.config.writeMode !== 'upsert') return { writeMode: this.config.writeMode, keys: [], limits: this.#limits }
    const wanted = this.#upsertKeysGiven() ?? this.#tableKey ?? []
    if (wanted.length === 0) throw new SluiceError('INTERNAL', `writeMode upsert on ${this.config.table}: the table's key was not read at open`)
    const keys = wanted.map((k) => {
      const col = table.columns.find((c) => c.name === k) ?? table.columns.find((c) => c.name.toLowerCase() === k.toLowerCase())
      if (col === undefined) throw new SluiceError('SINK_SCHEMA', `upsert key ${k} is not a column of ${table.schema}.${table.name}`)
      return col.name
    })
    return { writeMode: 'upsert', keys, limits: this.#limits }
  }

  /** Adds the batch's merge rules (the aggregate step), which only an upsert can apply. */
  #withMerge(mode: LoadMode, batch: SinkBatch): LoadMode {
    if (batch.merge === undefined) return mode
    if (mode.writeMode !== 'upsert') throw new SluiceError('CONFIG_INVALID', `the aggregate step merges into ${this.config.table} by key: it needs writeMode upsert (writeMode is ${mode.writeMode})`)
    return { ...mode, merge: batch.merge }
  }

  async committedState(pipelineId: string): Promise<CommittedState | null> {
    try {
      return await this.tracker.committedState(pipelineId)
    } catch (err) {
      throw this.#fail(err, `reading the committed state of ${pipelineId}`)
    }
  }

  async write(batch: SinkBatch, onReject?: RejectHandler): Promise<WriteResult> {
    const tracker = this.tracker
    const what = `writing batch ${batch.batchId} of ${batch.pipelineId} to ${this.config.table}`
    try {
      const table = await this.#target()
      const mode = this.#withMerge(this.#mode(table), batch)
      const result = await tracker.driver.transaction(async (tx): Promise<WriteResult> => {
        if (batch.exactlyOnce) {
          const fresh = await tracker.markBatchProcessed(tx, batch.pipelineId, batch.batchId, batch.recordCount ?? batch.rows.length, batch.checkpointLocation)
          if (!fresh) throw new DuplicateBatch()
          await tracker.fence(tx, batch.pipelineId, batch.batchId, batch.start, batch.end)
        }
        const rows = await writeRows(tx, table, batch.rows, mode, onReject !== undefined)
        if (mode.writeMode === 'upsert' && this.config.deleteOnTombstone && batch.deletes !== undefined) {
          await deleteByKeys(tx, table, mode.keys, batch.deletes)
        }
        const side = rows.rejected.length > 0 && onReject !== undefined ? [...batch.sideOutputs, ...onReject(rows.rejected)] : batch.sideOutputs
        await writeSideOutputs(tx, side, tracker.schema, this.#sideTables, this.#limits)
        if (batch.exactlyOnce) await tracker.saveState(tx, batch.pipelineId, batch.batchId, batch.nextWatermarkMs)
        await failpoint('before-commit', batch.batchId) // crash tests: everything written, COMMIT not sent
        return { status: 'committed', written: rows.written, rejected: rows.rejected }
      })
      await failpoint('after-commit', batch.batchId) // crash tests: committed, nothing recorded elsewhere yet
      this.#sideTables.commit()
      return result
    } catch (err) {
      this.#sideTables.rollback()
      if (err instanceof DuplicateBatch) {
        this.#log.info({ pipelineId: batch.pipelineId, batchId: batch.batchId }, 'batch already committed, skipped')
        return { status: 'duplicate', written: 0, rejected: [] }
      }
      throw this.#fail(err, what)
    }
  }

  async ping(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    try {
      await this.tracker.driver.query('SELECT 1')
    } catch (err) {
      throw this.#fail(err, 'pinging the sink database')
    }
  }

  /** Last batch, its tracker row, watermark and positions per partition (`sluice status`). */
  async readStatus(pipelineId: string): Promise<TrackerStatus> {
    try {
      return await this.tracker.readStatus(pipelineId)
    } catch (err) {
      throw this.#fail(err, `reading the status of ${pipelineId}`)
    }
  }

  /** Deletes tracker rows older than `retentionDays` (keeping each pipeline's newest); returns the count. */
  async cleanup(pipelineId: string | undefined, retentionDays: number): Promise<number> {
    try {
      return await this.tracker.cleanupOldBatches(pipelineId, retentionDays)
    } catch (err) {
      throw this.#fail(err, 'cleaning up batch_tracker')
    }
  }

  /** Rows of the pipeline in batch_tracker, for etl_batch_tracker_records_total. */
  async trackerSize(pipelineId: string): Promise<number> {
    try {
      return await this.tracker.trackerSize(pipelineId)
    } catch (err) {
      throw this.#fail(err, `counting the batch_tracker rows of ${pipelineId}`)
    }
  }

  /** Runs one statement in a READ ONLY transaction (`sluice sql`): rows and column names. */
  async readOnlyQuery(sql: string): Promise<{ rows: Record<string, unknown>[]; columns: readonly string[] }> {
    try {
      const r = await readOnlyQuery(this.tracker.driver, sql, this.tracker.schema)
      return { rows: rowObjects(r), columns: r.columns }
    } catch (err) {
      throw this.#fail(err, 'running the query')
    }
  }

  /** Column names of the target table (resolving or creating it now), for the engine's metadata fields. */
  async targetColumns(): Promise<readonly string[] | null> {
    try {
      return (await this.#target()).columns.map((c) => c.name)
    } catch (err) {
      // The write reports a missing table with its own error; here it only means "unknown".
      this.#log.debug({ err: this.#fail(err, 'reading the target columns').message }, 'target columns unknown')
      return null
    }
  }

  async close(): Promise<void> {
    const conn = this.#conn
    this.#conn = undefined
    this.#tracker = undefined
    this.#table = undefined
    this.#tableKey = undefined
    if (conn !== undefined) await conn.driver.close()
  }
}
