import type { Position } from './position.ts'

/** What the store remembers about a pipeline: the authority for recovery. */
export interface CommittedState {
  readonly batchId: number
  readonly position: Position
  /** Watermark to apply from the next batch on (epoch ms), or null without a watermark. */
  readonly watermarkMs: number | null
}

/** The bookkeeping the store records with one batch, in the batch's own transaction. */
export interface BatchMark {
  readonly pipelineId: string
  /** The batch id the engine planned; with `shared` only a hint (the store takes the pipeline's next id). */
  readonly batchId: number
  /** false (enableIdempotence: false): a plain transaction, no tracker row, no stored position. */
  readonly exactlyOnce: boolean
  /** Source records the batch covers (rows + dead letters + late + filtered): batch_tracker.record_count. */
  readonly recordCount: number
  /** Source position before and after the batch: the store keeps `end`, fenced on `start`, per partition. */
  readonly start: Position
  readonly end: Position
  /**
   * The watermark the engine computed for the next batch (Spark's rule over the records it saw).
   * The store keeps the larger of it and the stored one: the pipeline's watermark never moves back,
   * whichever worker commits.
   */
  readonly nextWatermarkMs: number | null
  /** The largest on-time event time (epoch ms) the batch saw per partition; the store keeps each partition's maximum. */
  readonly eventTimes?: Readonly<Record<string, number>>
  /**
   * The per-partition rule (Flink's): the pipeline's watermark is the minimum over the partitions
   * with event times, leaving out those idle for `idleMs`, of their maximum event time, minus
   * `delayMs`; computed by the store inside the transaction from every worker's partitions.
   * Absent: Spark's rule, `nextWatermarkMs`.
   */
  readonly partitionWatermark?: PartitionWatermarkRule
  readonly checkpointLocation: string | null
  /**
   * Several workers share the pipeline: the store takes the pipeline's next batch id inside the
   * transaction (gapless in commit order), and a batch counts as already committed when every
   * partition's stored position is its end (the ids of two workers' plans say nothing).
   */
  readonly shared?: boolean
}

/** How a store derives the pipeline's watermark from its partitions' event times. */
export interface PartitionWatermarkRule {
  readonly delayMs: number
  /** A partition whose position has not moved for this long is idle and does not hold the watermark back; null: never idle. */
  readonly idleMs: number | null
}

/**
 * `duplicate`: the batch id was already committed; nothing ran, nothing was written. `watermarkMs`
 * is the pipeline's watermark as the store saved it with the batch (exactly-once batches).
 */
export type CommitOutcome<T> =
  | { readonly status: 'committed'; readonly value: T; readonly batchId: number; readonly watermarkMs?: number | null }
  | { readonly status: 'duplicate' }

/** The batch's id inside its transaction: the planned one, or (shared) the pipeline's next, taken on first call. */
export type BatchIdOf = () => Promise<number>

/** The parts of a store that do not touch a batch transaction: start-up, recovery, probes. */
export interface StoreControl {
  open(signal: AbortSignal): Promise<void>
  /** The last committed batch of the pipeline, or null on a first run. */
  committedState(pipelineId: string): Promise<CommittedState | null>
  /** Cheap liveness probe for readiness checks. */
  ping(signal: AbortSignal): Promise<void>
  /** Number of batch_tracker rows of the pipeline (etl_batch_tracker_records_total); optional. */
  trackerSize?(pipelineId: string): Promise<number>
  close(): Promise<void>
}

/**
 * The one commit point of Sluice. `commit` opens the batch transaction and, for an exactly-once
 * batch, records the tracker row (a batch already there is a duplicate: nothing else runs) and
 * compare-and-sets each partition's stored position from `start` to `end` (SINK_FENCED when another
 * worker moved it); then `work` runs (taking the batch id late keeps a shared pipeline's id lock
 * short: from the dead letters to COMMIT, not over the table's COPY), where the writers write inside the same transaction `Tx`;
 * then the store saves the pipeline state; then `settle` runs with the watermark it saved (the aggregate
 * step in append mode writes the windows that watermark closes); then the store commits. Everything
 * commits together or nothing does.
 */
export interface CommitStore<Tx> extends StoreControl {
  commit<T>(mark: BatchMark, work: (tx: Tx, batchId: BatchIdOf) => Promise<T>, settle?: CommitSettle<Tx>): Promise<CommitOutcome<T>>
}

/**
 * The last step of an exactly-once batch's transaction, after the pipeline state is saved:
 * `watermarkMs` is the watermark the batch commits (what the next batch applies).
 */
export type CommitSettle<Tx> = (tx: Tx, batchId: number, watermarkMs: number | null) => Promise<void>
