import type { Position } from './position.ts'
import type { Row, RowValues, SourceRecord } from './record.ts'
import type { SluiceError } from '../errors.ts'

/** What the sink database remembers about a pipeline: the authority for recovery. */
export interface CommittedState {
  readonly batchId: number
  readonly position: Position
  /** Watermark to apply from the next batch on (epoch ms), or null without a watermark. */
  readonly watermarkMs: number | null
}

/** Rows that go to a table other than the target, in the same transaction (DLQ, late data, outbox). */
export interface SideOutput {
  /** Table name (may be `schema.table`); quoted by the sink. */
  readonly table: string
  readonly rows: readonly RowValues[]
  /** Create the table with these column types when absent. */
  readonly columns: Readonly<Record<string, string>>
}

/**
 * How an aggregate column of a new row combines with the stored one (the aggregate step):
 * count and sum add (sum is null only when both are), min and max keep the extreme, and avg on a
 * column X is recomputed as `X__sum / X__count` after those two merged (they carry sum and count).
 */
export type MergeRule = 'count' | 'sum' | 'min' | 'max' | 'avg'

/** One micro-batch handed to a sink. */
export interface SinkBatch {
  readonly pipelineId: string
  readonly batchId: number
  /** false (enableIdempotence: false): plain at-least-once write, no tracker row, no stored position. */
  readonly exactlyOnce: boolean
  readonly rows: readonly Row[]
  /** Source records the batch covers (rows + dead letters + late + filtered): batch_tracker.record_count. */
  readonly recordCount?: number
  /** Source position before and after the batch; the sink stores `end` with the commit, fenced on `start`. */
  readonly start: Position
  readonly end: Position
  readonly nextWatermarkMs: number | null
  readonly checkpointLocation: string | null
  readonly sideOutputs: readonly SideOutput[]
  /** Upsert only: rows whose source record was a tombstone, to delete by key. */
  readonly deletes?: readonly RowValues[]
  /**
   * Upsert only (the aggregate step): column -> merge rule. Rows are partial aggregates keyed by
   * the upsert keys; rows of one key are combined and merged into the stored row instead of
   * replacing it. Columns without a rule are replaced (the last row of a key wins).
   */
  readonly merge?: Readonly<Record<string, MergeRule>>
}

/** A row the database refused, found by splitting the batch; the engine routes it to the DLQ. */
export interface RejectedRow {
  readonly row: Row
  readonly error: SluiceError
}

export interface WriteResult {
  /** `duplicate`: the batch id was already committed, nothing was written. */
  readonly status: 'committed' | 'duplicate'
  readonly written: number
  readonly rejected: readonly RejectedRow[]
}

/** Turns rejected rows into side outputs; called inside the write transaction. */
export type RejectHandler = (rejected: readonly RejectedRow[]) => readonly SideOutput[]

/**
 * The contract every sink implements. `write` is the one commit point of Sluice: the rows, the
 * side outputs, the tracker row and the end position commit in one transaction, or none do.
 */
export interface Sink {
  open(signal: AbortSignal): Promise<void>
  /** The last committed batch of the pipeline, or null on a first run. */
  committedState(pipelineId: string): Promise<CommittedState | null>
  /**
   * Writes the batch exactly once. Rows the database refuses are found by splitting, handed to
   * `onReject` (or, when it is absent, fail the batch), and the rest commits.
   */
  write(batch: SinkBatch, onReject?: RejectHandler): Promise<WriteResult>
  /**
   * The target table's column names (after open), or null when unknown. The engine then adds only
   * the record metadata fields (key, value, topic, ...) that the table can hold.
   */
  targetColumns?(): Promise<readonly string[] | null>
  /** Cheap liveness probe for readiness checks. */
  ping(signal: AbortSignal): Promise<void>
  /** Number of batch_tracker rows of the pipeline (etl_batch_tracker_records_total); optional. */
  trackerSize?(pipelineId: string): Promise<number>
  close(): Promise<void>
}

export type { SourceRecord }
