/**
 * The seed's BatchTracker on Sluice's bookkeeping tables (see sql/tracker-ddl.sql): is-processed,
 * mark-processed (idempotent), with-transaction, last processed batch id, cleanup of old rows, plus
 * the source-position fence and the pipeline state row that make a batch commit the recovery point.
 * All methods take the pipeline id: one tracker serves every pipeline of a database.
 */
import type { CommittedState, PartitionWatermarkRule } from '../../../api/store.ts'
import type { Position } from '../../../api/position.ts'
import { SluiceError } from '../../../errors.ts'
import type { PgDriver, PgSession } from './driver.ts'
import { quoteIdent } from './sql/quote.ts'
import { sqlStatements, sqlText, type SqlFile } from './sql/sql-files.ts'
import { sqlState } from './classify-error.ts'

/** What `sluice status` shows for a pipeline. */
export interface TrackerStatus {
  readonly lastBatchId: number | null
  readonly processedAt: Date | null
  readonly recordCount: number | null
  readonly checkpointLocation: string | null
  readonly watermarkMs: number | null
  readonly positions: ReadonlyArray<{ partition: string; position: string; batchId: number; updatedAt: Date }>
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v)
}

export class BatchTracker {
  readonly driver: PgDriver
  /** The schema holding the tables (unquoted). */
  readonly schema: string
  readonly #q: string

  constructor(driver: PgDriver, schema: string) {
    this.driver = driver
    this.schema = schema
    this.#q = quoteIdent(schema)
  }

  readonly #texts = new Map<SqlFile, string>()

  #sql(name: SqlFile): string {
    let text = this.#texts.get(name)
    if (text === undefined) this.#texts.set(name, (text = sqlText(name, this.#q)))
    return text
  }

  /** Creates the tables when absent. Concurrent creators may race on the catalog; the loser ignores it. */
  async ensureTables(): Promise<void> {
    for (const stmt of sqlStatements('tracker-ddl', this.#q)) {
      try {
        await this.driver.query(stmt)
      } catch (err) {
        const state = sqlState(err)
        // Two pipelines opening one schema at once race on the catalog even with IF NOT EXISTS:
        // unique_violation on pg_type, duplicate_table, duplicate_object. The winner created it.
        if (state !== '23505' && state !== '42P07' && state !== '42710') throw err
      }
    }
  }

  /** True when the three bookkeeping tables exist. */
  async tablesExist(): Promise<boolean> {
    const r = await this.driver.query<{ present: boolean }>(this.#sql('tracker-exists'), [this.schema])
    return r.rows[0]?.present === true
  }

  /** Runs `fn` in one transaction (commit on success, rollback on throw). */
  withTransaction<T>(fn: (tx: PgSession) => Promise<T>): Promise<T> {
    return this.driver.transaction(fn)
  }

  /** Whether the batch is committed (outside any transaction; the write path checks inside its own). */
  async isBatchProcessed(pipelineId: string, batchId: number): Promise<boolean> {
    const r = await this.driver.query<{ processed: boolean }>(this.#sql('tracker-is-processed'), [pipelineId, batchId])
    return r.rows[0]?.processed === true
  }

  /**
   * Inserts the tracker row in `tx`; false when the batch was already marked (nothing inserted). Called
   * first in the write transaction, its primary-key lock also makes a concurrent duplicate wait.
   */
  async markBatchProcessed(tx: PgSession, pipelineId: string, batchId: number, recordCount: number, checkpointLocation: string | null = null): Promise<boolean> {
    const r = await tx.query(this.#sql('tracker-mark'), [pipelineId, batchId, recordCount, checkpointLocation])
    return r.rowCount === 1
  }

  /** The last processed batch id, or null when the pipeline has none. */
  async lastProcessedBatchId(pipelineId: string): Promise<number | null> {
    const r = await this.driver.query<{ batch_id: string | null }>(this.#sql('tracker-last-batch'), [pipelineId])
    return num(r.rows[0]?.batch_id)
  }

  /** Deletes tracker rows older than `retentionDays` (all pipelines when undefined), keeping each pipeline's newest. */
  async cleanupOldBatches(pipelineId: string | undefined, retentionDays: number): Promise<number> {
    if (!Number.isInteger(retentionDays) || retentionDays < 0) throw new SluiceError('CONFIG_INVALID', `retention days must be a non-negative integer, got ${retentionDays}`)
    const r = await this.driver.query(this.#sql('tracker-cleanup'), [pipelineId ?? null, retentionDays])
    return r.rowCount
  }

  /** Number of tracker rows of the pipeline (etl_batch_tracker_records_total). */
  async trackerSize(pipelineId: string): Promise<number> {
    const r = await this.driver.query<{ n: string }>(this.#sql('tracker-count'), [pipelineId])
    return Number(r.rows[0]?.n ?? 0)
  }

  /**
   * Moves each partition of `end` from its `start` value (absent = never stored) to its end value, or
   * throws SINK_FENCED naming the partitions whose stored position is not the batch's start.
   */
  async fence(tx: PgSession, pipelineId: string, batchId: number, start: Position, end: Position, eventTimes: Readonly<Record<string, number>> = {}): Promise<'applied' | 'committed'> {
    const keys = Object.keys(end)
    if (keys.length === 0) return 'applied'
    const r = await this.#fence(tx, pipelineId, batchId, keys, start, end, eventTimes, null)
    return this.#fenced(tx, pipelineId, batchId, end, keys, r.applied)
  }

  /**
   * markBatchProcessed and fence in one round trip (one worker's pipeline, at the start of its batch):
   * 'duplicate' when the tracker already held the batch (nothing else was changed), else fence's answer.
   */
  async openBatch(tx: PgSession, pipelineId: string, batchId: number, recordCount: number, checkpointLocation: string | null, start: Position, end: Position, eventTimes: Readonly<Record<string, number>> = {}): Promise<'duplicate' | 'applied' | 'committed'> {
    const keys = Object.keys(end)
    const r = await this.#fence(tx, pipelineId, batchId, keys, start, end, eventTimes, { recordCount, checkpointLocation })
    if (r.marked !== 1) return 'duplicate'
    return keys.length === 0 ? 'applied' : this.#fenced(tx, pipelineId, batchId, end, keys, r.applied)
  }

  /** Runs positions-fence.sql, with the tracker row first when `mark` is given. */
  async #fence(tx: PgSession, pipelineId: string, batchId: number, keys: readonly string[], start: Position, end: Position, eventTimes: Readonly<Record<string, number>>, mark: { recordCount: number; checkpointLocation: string | null } | null): Promise<{ marked: number; applied: readonly string[] }> {
    const params = [
      pipelineId,
      batchId,
      [...keys],
      keys.map((k) => start[k] ?? null),
      keys.map((k) => end[k] as string),
      keys.map((k) => (eventTimes[k] === undefined ? null : String(Math.trunc(eventTimes[k])))),
      mark?.recordCount ?? null,
      mark?.checkpointLocation ?? null,
      mark !== null,
    ]
    const r = await tx.query<{ marked: number; applied: string[] }>(this.#sql('positions-fence'), params)
    return { marked: r.rows[0]?.marked ?? 0, applied: r.rows[0]?.applied ?? [] }
  }

  /** The fence's outcome from the partitions it applied (see fence). */
  async #fenced(tx: PgSession, pipelineId: string, batchId: number, end: Position, keys: readonly string[], appliedKeys: readonly string[]): Promise<'applied' | 'committed'> {
    if (appliedKeys.length === keys.length) return 'applied'
    const applied = new Set(appliedKeys)
    const lost = keys.filter((k) => !applied.has(k))
    if (applied.size === 0) {
      // Every partition already stands at the batch's end: this very range committed before (a retry
      // whose COMMIT reply was lost). Positions only move forward, so no other range ends there.
      const stored = await tx.query<{ partition_key: string; position: string }>(this.#sql('positions-at'), [pipelineId, keys])
      const at = new Map(stored.rows.map((row) => [row.partition_key, row.position]))
      if (keys.every((k) => at.get(k) === end[k])) return 'committed'
    }
    throw new SluiceError('SINK_FENCED', `batch ${batchId} of ${pipelineId}: the stored position of ${lost.join(', ')} is not the batch's start; another worker committed it`, {
      details: { pipelineId, batchId, partitions: lost },
    })
  }

  /**
   * The end of a shared pipeline's batch in one round trip: the tracker row, the state row with the
   * proposed watermark, and, when `batchId` is null, the next batch id (nextBatchId). Returns the id,
   * the watermark stored, and whether the tracker row was inserted (false: that id was already there).
   */
  async closeBatch(tx: PgSession, pipelineId: string, batchId: number | null, recordCount: number, checkpointLocation: string | null, watermark: number | null): Promise<{ batchId: number; watermarkMs: number | null; marked: boolean }> {
    const proposed = watermark === null ? null : Math.trunc(watermark)
    const r =
      batchId === null
        ? await tx.query<{ batch_id: string; watermark_ms: string | null; marked: number }>(this.#sql('batch-close-next'), [pipelineId, recordCount, checkpointLocation, proposed])
        : await tx.query<{ batch_id: string; watermark_ms: string | null; marked: number }>(this.#sql('batch-close'), [pipelineId, batchId, recordCount, checkpointLocation, proposed])
    const row = r.rows[0]
    return { batchId: Number(row?.batch_id), watermarkMs: num(row?.watermark_ms), marked: row?.marked === 1 }
  }

  /** The next batch id of a pipeline shared by several workers (locks the state row until COMMIT). */
  async nextBatchId(tx: PgSession, pipelineId: string): Promise<number> {
    const r = await tx.query<{ batch_id: string }>(this.#sql('state-next-batch'), [pipelineId])
    return Number(r.rows[0]?.batch_id)
  }

  /**
   * Records the last committed batch and the watermark for the next one: the larger of the stored
   * one and `watermark` (a proposed value, Spark's rule), or (a rule) the per-partition minimum
   * computed from the stored partitions. Returns the watermark stored.
   */
  async saveState(tx: PgSession, pipelineId: string, batchId: number, watermark: number | null | PartitionWatermarkRule): Promise<number | null> {
    const r =
      watermark !== null && typeof watermark === 'object'
        ? await tx.query<{ watermark_ms: string | null }>(this.#sql('state-upsert-partitions'), [pipelineId, batchId, Math.trunc(watermark.delayMs), watermark.idleMs === null ? null : Math.trunc(watermark.idleMs)])
        : await tx.query<{ watermark_ms: string | null }>(this.#sql('state-upsert'), [pipelineId, batchId, watermark === null ? null : Math.trunc(watermark)])
    return num(r.rows[0]?.watermark_ms)
  }

  /** Stored positions of a pipeline. */
  async positions(pipelineId: string, session: Pick<PgSession, 'query'> = this.driver): Promise<TrackerStatus['positions']> {
    const r = await session.query<{ partition_key: string; position: string; batch_id: string; updated_at: Date }>(this.#sql('positions-read'), [pipelineId])
    return r.rows.map((row) => ({ partition: row.partition_key, position: row.position, batchId: Number(row.batch_id), updatedAt: row.updated_at }))
  }

  /** The last committed batch, its end position and watermark; null on a first run. */
  async committedState(pipelineId: string): Promise<CommittedState | null> {
    if (!(await this.tablesExist())) return null
    const r = await this.driver.query<{ last_batch_id: string | null; watermark_ms: string | null; tracker_batch_id: string | null }>(this.#sql('state-read'), [pipelineId])
    const row = r.rows[0]
    const batchId = num(row?.last_batch_id) ?? num(row?.tracker_batch_id)
    const positions = await this.positions(pipelineId)
    if (batchId === null && positions.length === 0) return null
    const position: Record<string, string> = {}
    for (const p of positions) position[p.partition] = p.position
    return { batchId: batchId ?? 0, position, watermarkMs: num(row?.watermark_ms) }
  }

  /** Everything `sluice status` reports about a pipeline. */
  async readStatus(pipelineId: string): Promise<TrackerStatus> {
    if (!(await this.tablesExist())) return { lastBatchId: null, processedAt: null, recordCount: null, checkpointLocation: null, watermarkMs: null, positions: [] }
    const last = await this.driver.query<{ batch_id: string; processed_at: Date; record_count: string | null; checkpoint_location: string | null }>(this.#sql('tracker-status'), [pipelineId])
    const state = await this.driver.query<{ watermark_ms: string | null }>(this.#sql('state-read'), [pipelineId])
    const row = last.rows[0]
    return {
      lastBatchId: num(row?.batch_id),
      processedAt: row?.processed_at ?? null,
      recordCount: num(row?.record_count),
      checkpointLocation: row?.checkpoint_location ?? null,
      watermarkMs: num(state.rows[0]?.watermark_ms),
      positions: await this.positions(pipelineId),
    }
  }
}
