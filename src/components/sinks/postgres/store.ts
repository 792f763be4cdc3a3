/**
 * The PostgreSQL commit store: the one commit point of Sluice. `commit` runs one transaction that
 *   1. (exactly-once) inserts the batch's tracker row, ON CONFLICT DO NOTHING: nothing inserted means
 *      the batch is already committed, so it rolls back and reports `duplicate`. The check is inside
 *      the transaction, and the primary-key row lock makes a concurrent duplicate wait for the outcome;
 *   2. (exactly-once) compare-and-sets each partition's stored position from the batch's start to its
 *      end, or fails with SINK_FENCED (another worker committed that partition);
 *   3. runs the writers' work (table rows, dead letters, late records) on the same transaction;
 *   4. (exactly-once) records the last batch id and the watermark.
 * With `exactlyOnce: false` only step 3 runs: plain at-least-once.
 * Steps share round trips where their order allows (positions-fence.sql, batch-close*.sql): one
 * worker's pipeline sends 1 and 2 as one statement; a shared pipeline fences first and sends 4 with
 * its tracker row (and its batch id, when no dead letter took it earlier) as one statement after
 * the rows.
 * The store owns the connection; the table writer and the dead-letter writers borrow it through the
 * transaction handle (`PgBatchTx`), and the outbox relay through `database()`.
 */
import { failpoint } from '../../../failpoint.ts'
import type { ComponentContext, Logger } from '../../../api/component.ts'
import type { BatchIdOf, BatchMark, CommitOutcome, CommitSettle, CommitStore, CommittedState } from '../../../api/store.ts'
import { SluiceError } from '../../../errors.ts'
import { classifyError } from './classify-error.ts'
import { connect, type Connection, type CredentialResolver } from './connection.ts'
import type { PostgresLoadConfig } from './config.ts'
import type { PgDriver, PgSession } from './driver.ts'
import { readOnlyQuery, rowObjects } from './read-only.ts'
import { RunLock } from './run-lock.ts'
import { pipelineSchema } from './schema.ts'
import { BatchTracker, type TrackerStatus } from './tracker.ts'

/** The batch transaction as the PostgreSQL writers see it. */
export interface PgBatchTx {
  readonly session: PgSession
  /** The schema of the bookkeeping tables, where unqualified side tables go. */
  readonly schema: string
  /** Runs after this transaction committed (a writer's cache of tables created inside it). */
  onCommit(fn: () => void): void
  /** Runs after this transaction rolled back. */
  onRollback(fn: () => void): void
}

/** open() lost the race with close() (a shutdown during start-up). */
function closedWhileOpening(): SluiceError {
  return new SluiceError('SHUTDOWN', 'the postgres store was closed while it was opening')
}

/** SINK_FENCED for a batch that starts elsewhere than the stored positions (one worker's pipeline). */
function fencedError(mark: BatchMark): SluiceError {
  const partitions = Object.keys(mark.end)
  return new SluiceError('SINK_FENCED', `batch ${mark.batchId} of ${mark.pipelineId}: the stored position of ${partitions.join(', ')} is not the batch's start; another worker committed it`, {
    details: { pipelineId: mark.pipelineId, batchId: mark.batchId, partitions },
  })
}

/** A shared pipeline's batch id from the state row that batch_tracker already holds (tables edited by hand). */
function alreadyTracked(mark: BatchMark, id: number): SluiceError {
  return new SluiceError('INTERNAL', `batch id ${id} of ${mark.pipelineId} taken from the state row is already in batch_tracker`)
}

/** Thrown inside the transaction to roll back a duplicate batch. */
class DuplicateBatch extends Error {}

export class PostgresStore implements CommitStore<PgBatchTx> {
  readonly config: PostgresLoadConfig
  readonly #ctx: ComponentContext
  readonly #resolveCredential: CredentialResolver | undefined
  readonly #log: Logger
  #conn: Connection | undefined
  #tracker: BatchTracker | undefined
  #runLock: RunLock | null = null
  /** How many times close() ran: open() checks it after each wait (a shutdown may close the store meanwhile). */
  #closes = 0

  constructor(config: PostgresLoadConfig, ctx: ComponentContext, resolveCredential?: CredentialResolver) {
    this.config = config
    this.#ctx = ctx
    this.#resolveCredential = resolveCredential
    this.#log = ctx.logger.child({ component: 'postgres-store' })
  }

  /** Values that must never appear in an error (the password). */
  get secrets(): readonly string[] {
    return this.#conn?.secrets ?? []
  }

  /** Wraps a driver error as a SluiceError without secrets. */
  fail(err: unknown, what: string): SluiceError {
    return classifyError(err, what, this.secrets)
  }

  /** The batch tracker (after open): seed-style operations for tests, `status` and `cleanup`. */
  get tracker(): BatchTracker {
    if (this.#tracker === undefined) throw new SluiceError('INTERNAL', 'postgres store used before open()')
    return this.#tracker
  }

  /** The connection and bookkeeping schema, for the outbox relay and read-only tools (after open). */
  database(): { readonly driver: PgDriver; readonly schema: string } {
    return { driver: this.tracker.driver, schema: this.tracker.schema }
  }

  async open(signal: AbortSignal): Promise<void> {
    if (this.#conn !== undefined) return
    signal.throwIfAborted()
    // A shutdown may close the store while open() still waits (the engine stops waiting for a
    // start-up on the first signal): what open() gets after that is let go at once, or the run
    // lock's connection would keep the process alive with nothing left to end it.
    const generation = this.#closes
    const conn = await connect(this.config, this.#ctx, this.#resolveCredential)
    if (this.#closes !== generation) {
      await conn.driver.close()
      throw closedWhileOpening()
    }
    this.#conn = conn
    try {
      const schema = await pipelineSchema(this.config, conn.driver)
      this.#tracker = new BatchTracker(conn.driver, schema)
      if (this.config.autoCreateTable) await this.#tracker.ensureTables()
      // While the store is open the pipeline counts as running: `sluice reset` refuses (run-lock.ts).
      const lock = await RunLock.take(conn.driver, schema, this.#ctx.pipelineId, this.#log, signal)
      if (this.#closes !== generation) {
        await lock?.release()
        throw closedWhileOpening()
      }
      this.#runLock = lock
      this.#log.info({ database: conn.display, schema }, 'postgres store open')
    } catch (err) {
      if (this.#closes !== generation) throw closedWhileOpening()
      const e = this.fail(err, `opening ${conn.display}`)
      await this.close()
      throw e
    }
  }

  async committedState(pipelineId: string): Promise<CommittedState | null> {
    try {
      return await this.tracker.committedState(pipelineId)
    } catch (err) {
      throw this.fail(err, `reading the committed state of ${pipelineId}`)
    }
  }

  async commit<T>(mark: BatchMark, work: (tx: PgBatchTx, batchId: BatchIdOf) => Promise<T>, settle?: CommitSettle<PgBatchTx>): Promise<CommitOutcome<T>> {
    const tracker = this.tracker
    const committed: Array<() => void> = []
    const rolledBack: Array<() => void> = []
    try {
      let batchId: number | null = mark.shared ? null : mark.batchId
      let watermarkMs: number | null = null
      const value = await tracker.driver.transaction(async (session): Promise<T> => {
        if (mark.exactlyOnce && !mark.shared) {
          // Tracker row and fence in one round trip (they were two statements; the order inside is the same).
          const opened = await tracker.openBatch(session, mark.pipelineId, mark.batchId, mark.recordCount, mark.checkpointLocation, mark.start, mark.end, mark.eventTimes)
          if (opened === 'duplicate') throw new DuplicateBatch()
          if (opened === 'committed') throw fencedError(mark)
        }
        // A shared pipeline's batch whose every partition already stands at its end committed before
        // (under another id, or by another worker).
        if (mark.exactlyOnce && mark.shared && (await tracker.fence(session, mark.pipelineId, mark.batchId, mark.start, mark.end, mark.eventTimes)) === 'committed') {
          throw new DuplicateBatch()
        }
        const idOf = async (): Promise<number> => (batchId ??= await tracker.nextBatchId(session, mark.pipelineId))
        const tx: PgBatchTx = { session, schema: tracker.schema, onCommit: (fn) => committed.push(fn), onRollback: (fn) => rolledBack.push(fn) }
        const result = await work(tx, idOf)
        if (mark.exactlyOnce) {
          const closed = await this.#close(session, mark, batchId)
          batchId = closed.batchId
          watermarkMs = closed.watermarkMs
          if (settle) await settle(tx, closed.batchId, watermarkMs)
        }
        await failpoint('before-commit', mark.batchId) // crash tests: everything written, COMMIT not sent
        return result
      })
      await failpoint('after-commit', mark.batchId) // crash tests: committed, nothing recorded elsewhere yet
      for (const fn of committed) fn()
      return { status: 'committed', value, batchId: batchId ?? mark.batchId, ...(mark.exactlyOnce ? { watermarkMs } : {}) }
    } catch (err) {
      for (const fn of rolledBack) fn()
      if (err instanceof DuplicateBatch) {
        this.#log.info({ pipelineId: mark.pipelineId, batchId: mark.batchId }, 'batch already committed, skipped')
        return { status: 'duplicate' }
      }
      throw this.fail(err, `committing batch ${mark.batchId} of ${mark.pipelineId}`)
    }
  }

  /**
   * The end of an exactly-once batch: its state row (last batch id, watermark) and, for a shared
   * pipeline, its id (when no dead letter took it earlier) and tracker row, in one round trip unless
   * the watermark is the per-partition rule (computed from the positions the fence just moved).
   */
  async #close(session: PgSession, mark: BatchMark, taken: number | null): Promise<{ batchId: number; watermarkMs: number | null }> {
    const tracker = this.tracker
    const watermark = mark.partitionWatermark ?? mark.nextWatermarkMs
    if (!mark.shared) return { batchId: mark.batchId, watermarkMs: await tracker.saveState(session, mark.pipelineId, mark.batchId, watermark) }
    if (watermark === null || typeof watermark === 'number') {
      const closed = await tracker.closeBatch(session, mark.pipelineId, taken, mark.recordCount, mark.checkpointLocation, watermark)
      if (!closed.marked) throw alreadyTracked(mark, closed.batchId)
      return closed
    }
    const id = taken ?? (await tracker.nextBatchId(session, mark.pipelineId))
    if (!(await tracker.markBatchProcessed(session, mark.pipelineId, id, mark.recordCount, mark.checkpointLocation))) throw alreadyTracked(mark, id)
    return { batchId: id, watermarkMs: await tracker.saveState(session, mark.pipelineId, id, watermark) }
  }

  /**
   * One transaction outside the batch protocol: no tracker row, no source position, no state, no
   * batch id (`sluice dlq replay`, whose bookkeeping is the dead letters' own). The writers write
   * inside it as in a batch; `work` resolving commits, throwing rolls back.
   */
  async transaction<T>(what: string, work: (tx: PgBatchTx) => Promise<T>): Promise<T> {
    const tracker = this.tracker
    const committed: Array<() => void> = []
    const rolledBack: Array<() => void> = []
    try {
      const value = await tracker.driver.transaction((session) => work({ session, schema: tracker.schema, onCommit: (fn) => committed.push(fn), onRollback: (fn) => rolledBack.push(fn) }))
      for (const fn of committed) fn()
      return value
    } catch (err) {
      for (const fn of rolledBack) fn()
      throw this.fail(err, what)
    }
  }

  async ping(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    try {
      await this.tracker.driver.query('SELECT 1')
    } catch (err) {
      throw this.fail(err, 'pinging the sink database')
    }
  }

  /** Last batch, its tracker row, watermark and positions per partition (`sluice status`). */
  async readStatus(pipelineId: string): Promise<TrackerStatus> {
    try {
      return await this.tracker.readStatus(pipelineId)
    } catch (err) {
      throw this.fail(err, `reading the status of ${pipelineId}`)
    }
  }

  /** Deletes tracker rows older than `retentionDays` (keeping each pipeline's newest); returns the count. */
  async cleanup(pipelineId: string | undefined, retentionDays: number): Promise<number> {
    try {
      return await this.tracker.cleanupOldBatches(pipelineId, retentionDays)
    } catch (err) {
      throw this.fail(err, 'cleaning up batch_tracker')
    }
  }

  /** Rows of the pipeline in batch_tracker, for etl_batch_tracker_records_total. */
  async trackerSize(pipelineId: string): Promise<number> {
    try {
      return await this.tracker.trackerSize(pipelineId)
    } catch (err) {
      throw this.fail(err, `counting the batch_tracker rows of ${pipelineId}`)
    }
  }

  /** Runs one statement in a READ ONLY transaction (`sluice sql`): rows and column names. */
  async readOnlyQuery(sql: string): Promise<{ rows: Record<string, unknown>[]; columns: readonly string[] }> {
    try {
      const r = await readOnlyQuery(this.tracker.driver, sql, this.tracker.schema)
      return { rows: rowObjects(r), columns: r.columns }
    } catch (err) {
      throw this.fail(err, 'running the query')
    }
  }

  async close(): Promise<void> {
    this.#closes++
    const conn = this.#conn
    const lock = this.#runLock
    this.#conn = undefined
    this.#tracker = undefined
    this.#runLock = null
    await lock?.release()
    if (conn !== undefined) await conn.driver.close()
  }
}
