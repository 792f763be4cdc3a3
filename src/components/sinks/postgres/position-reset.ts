/**
 * `sluice reset` in the sink database: ONE transaction that takes the run lock exclusively (refusing
 * with PIPELINE_RUNNING while a worker holds it), reads the stored positions and the state row (locked),
 * asks for the moves, and then writes them as a batch of their own: the positions under the next
 * batch id, a batch_tracker row with that id and record_count 0 (so the seed's monitoring queries
 * still see one gapless sequence), the state row (last batch id = the reset's, the watermark), and a
 * history row in sluice_position_resets. A crash anywhere before COMMIT leaves every position as it
 * was; after it, all of them are new.
 *
 * Taking a batch id is also what keeps the checkpoint folder of a single-worker pipeline from
 * bringing old positions back: the next run's recovery (engine/recovery.ts) sees a committed batch
 * newer than anything its write-ahead log planned, so it takes the database's positions, repairs
 * its commit marker, and never replays a plan made before the reset.
 */
import type { Position } from '../../../api/position.ts'
import type { PositionMoves } from '../../../api/reset.ts'
import { SluiceError } from '../../../errors.ts'
import { failpoint } from '../../../failpoint.ts'
import type { PgSession } from './driver.ts'
import { quoteIdent } from './sql/quote.ts'
import { sqlStatements, sqlText, type SqlFile } from './sql/sql-files.ts'
import { tryExclusiveRunLock } from './run-lock.ts'
import type { BatchTracker } from './tracker.ts'

/** What a reset is asked to do. */
export interface ResetRequest {
  readonly pipelineId: string
  /** The target as given (`earliest`, a time, the positions JSON), for the history. */
  readonly target: string
  /** Print only: the transaction rolls back, nothing is written, a running worker is reported, not refused. */
  readonly dryRun: boolean
  /** Keep the stored watermark (default: clear it, so records read again are not late by the old one). */
  readonly keepWatermark: boolean
  /** Who asks (OS user, host, pid), for the history. */
  readonly resetBy: string
  /** batch_tracker.checkpoint_location of the reset's row, as the pipeline's batches have it. */
  readonly checkpointLocation: string | null
  /** May the bookkeeping tables be created when absent (load.autoCreateTable)? */
  readonly createTables: boolean
}

/** One partition before and after. */
export interface PartitionMove {
  readonly partition: string
  /** null: no stored position (read as new by the next run). */
  readonly before: string | null
  readonly after: string | null
  readonly changed: boolean
}

/** What a reset did, or (dry run) would do. */
export interface ResetOutcome {
  readonly pipelineId: string
  /** The batch id the reset took, or would take. */
  readonly batchId: number
  /** True when the positions were written (never in a dry run, nor when nothing changes). */
  readonly applied: boolean
  /** A worker holds the run lock (a dry run reports it; a real reset is refused instead). */
  readonly running: boolean
  readonly partitions: readonly PartitionMove[]
  readonly watermarkBefore: number | null
  readonly watermarkAfter: number | null
}

/** Rolls back the transaction of a dry run, or of a reset that would change nothing. */
class NothingWritten extends Error {
  readonly outcome: ResetOutcome
  constructor(outcome: ResetOutcome) {
    super('nothing written')
    this.outcome = outcome
  }
}

function num(v: string | null | undefined): number | null {
  return v === null || v === undefined ? null : Number(v)
}

/** Every stored partition and every moved one, in key order, with its before and after. */
export function partitionMoves(stored: Position, moves: PositionMoves): PartitionMove[] {
  const keys = [...new Set([...Object.keys(stored), ...Object.keys(moves)])].sort()
  return keys.map((partition) => {
    const before = stored[partition] ?? null
    const after = partition in moves ? (moves[partition] as string | null) : before
    return { partition, before, after, changed: before !== after }
  })
}

/** Moves a pipeline's stored positions; `decide` gets the stored positions (under the lock) and returns the moves. */
export async function resetPositions(tracker: BatchTracker, request: ResetRequest, decide: (stored: Position) => Promise<PositionMoves>): Promise<ResetOutcome> {
  const q = quoteIdent(tracker.schema)
  const sql = (name: SqlFile): string => sqlText(name, q)
  const { pipelineId } = request
  const present = await tracker.tablesExist()
  if (!request.dryRun) {
    if (!present && !request.createTables) {
      throw new SluiceError('RESET_REFUSED', `the bookkeeping tables (batch_tracker, sluice_source_positions, sluice_pipeline_state) are not in schema ${tracker.schema}: run the pipeline once, or set load.autoCreateTable`, {
        details: { schema: tracker.schema },
      })
    }
    // Also on tables of an older version: the reset writes today's columns (max_event_ms).
    if (request.createTables) await tracker.ensureTables()
    for (const stmt of sqlStatements('reset-ddl', q)) await tracker.driver.query(stmt)
  }
  try {
    return await tracker.withTransaction(async (tx: PgSession): Promise<ResetOutcome> => {
      const running = !(await tryExclusiveRunLock(tx, tracker.schema, pipelineId))
      if (running && !request.dryRun) {
        throw new SluiceError('PIPELINE_RUNNING', `a worker of pipeline ${pipelineId} is running (it holds the run lock in schema ${tracker.schema}): stop every sluice run of it, then reset again`, {
          details: { pipelineId, schema: tracker.schema },
        })
      }
      // A dry run on a pipeline without tables (it never ran) reads nothing: there is nothing yet.
      const { stored, lastBatch, watermarkBefore } = present || !request.dryRun ? await readStored(tx, sql, tracker, pipelineId) : { stored: {}, lastBatch: null, watermarkBefore: null }
      const partitions = partitionMoves(stored, await decide(stored))
      const batchId = lastBatch === null ? 0 : lastBatch + 1
      const watermarkAfter = request.keepWatermark ? watermarkBefore : null
      const changed = partitions.filter((p) => p.changed)
      const outcome = { pipelineId, batchId, running, partitions, watermarkBefore, watermarkAfter }
      if (request.dryRun) throw new NothingWritten({ ...outcome, applied: false })
      if (changed.length === 0 && watermarkAfter === watermarkBefore) throw new NothingWritten({ ...outcome, applied: false })
      await writeReset(tx, sql, tracker, request, { batchId, changed, watermarkBefore, watermarkAfter })
      return { ...outcome, applied: true }
    })
  } catch (err) {
    if (err instanceof NothingWritten) return err.outcome
    throw err
  }
}

/** The stored positions, the last batch id (state row or tracker) and the watermark, the state row locked. */
async function readStored(tx: PgSession, sql: (name: SqlFile) => string, tracker: BatchTracker, pipelineId: string): Promise<{ stored: Position; lastBatch: number | null; watermarkBefore: number | null }> {
  const state = await tx.query<{ last_batch_id: string | null; watermark_ms: string | null; tracker_batch_id: string | null }>(sql('reset-state'), [pipelineId])
  const row = state.rows[0]
  const ids = [num(row?.last_batch_id), num(row?.tracker_batch_id)].filter((n): n is number => n !== null)
  const stored: Record<string, string> = {}
  for (const p of await tracker.positions(pipelineId, tx)) stored[p.partition] = p.position
  return { stored, lastBatch: ids.length === 0 ? null : Math.max(...ids), watermarkBefore: num(row?.watermark_ms) }
}

/** The writes of a reset, in its transaction. */
async function writeReset(
  tx: PgSession,
  sql: (name: SqlFile) => string,
  tracker: BatchTracker,
  request: ResetRequest,
  plan: { readonly batchId: number; readonly changed: readonly PartitionMove[]; readonly watermarkBefore: number | null; readonly watermarkAfter: number | null },
): Promise<void> {
  const { pipelineId } = request
  const { batchId, changed, watermarkBefore, watermarkAfter } = plan
  const set = changed.filter((p) => p.after !== null)
  const forget = changed.filter((p) => p.after === null).map((p) => p.partition)
  if (set.length > 0) await tx.query(sql('reset-positions-set'), [pipelineId, batchId, set.map((p) => p.partition), set.map((p) => p.after)])
  if (forget.length > 0) await tx.query(sql('reset-positions-forget'), [pipelineId, forget])
  await failpoint('reset-positions-written', batchId) // crash tests: positions moved, nothing else yet
  if (!(await tracker.markBatchProcessed(tx, pipelineId, batchId, 0, request.checkpointLocation))) {
    throw new SluiceError('INTERNAL', `batch id ${batchId} of ${pipelineId} is already in batch_tracker although the state row says it is next`)
  }
  // Not tracker.saveState: a batch never moves the watermark back, a reset may (and by default clears it).
  await tx.query(sql('reset-state-save'), [pipelineId, batchId, watermarkAfter])
  if (!request.keepWatermark) await tx.query(sql('reset-event-times-clear'), [pipelineId])
  const side = (pick: (p: PartitionMove) => string | null): string => JSON.stringify(Object.fromEntries(changed.map((p) => [p.partition, pick(p)])))
  await tx.query(sql('reset-history'), [pipelineId, batchId, request.target, side((p) => p.before), side((p) => p.after), watermarkBefore, watermarkAfter, request.resetBy])
  await failpoint('reset-before-commit', batchId) // crash tests: everything written, COMMIT not sent
}
