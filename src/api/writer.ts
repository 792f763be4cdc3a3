import type { Row, RowValues, SourceRecord } from './record.ts'
import type { ErrorCode, SluiceError } from '../errors.ts'

/**
 * How an aggregate column of a new row combines with the stored one (the aggregate step):
 * count and sum add (sum is null only when both are), min and max keep the extreme, and avg on a
 * column X is recomputed as `X__sum / X__count` after those two merged (they carry sum and count).
 */
export type MergeRule = 'count' | 'sum' | 'min' | 'max' | 'avg'

/** What the table writer writes of one batch. */
export interface TableBatch {
  readonly rows: readonly Row[]
  /** Upsert only: rows whose source record was a tombstone, to delete by key. */
  readonly deletes?: readonly RowValues[]
  /** The source topic of each of `deletes`, same order: a writer that routes by topic deletes in the topic's table. */
  readonly deleteTopics?: readonly string[]
  /**
   * Upsert only (the aggregate step): column -> merge rule. Rows are partial aggregates keyed by
   * the upsert keys; rows of one key are combined and merged into the stored row instead of
   * replacing it. Columns without a rule are replaced (the last row of a key wins).
   */
  readonly merge?: Readonly<Record<string, MergeRule>>
  /**
   * Upsert only (a stateful step's result): keys of rows that no longer exist, deleted after the
   * rows are written (sessions merged into another session with an earlier start).
   */
  readonly removed?: readonly RowValues[]
}

/** A row the database refused, found by splitting the batch; the engine routes it to the DLQ. */
export interface RejectedRow {
  readonly row: Row
  readonly error: SluiceError
}

export interface TableWriteResult {
  readonly written: number
  readonly rejected: readonly RejectedRow[]
}

/** Writes the target table inside the store's batch transaction `Tx`. */
export interface TableWriter<Tx> {
  /** Resolves the target (after the store opened): a table that cannot be written stops the run at start. */
  open(signal: AbortSignal): Promise<void>
  /**
   * Writes the rows. With `isolate`, rows the database refuses are found by splitting and returned
   * as `rejected` while the rest is written; without it the first refusal fails the batch.
   */
  write(tx: Tx, batch: TableBatch, isolate: boolean): Promise<TableWriteResult>
  /**
   * The target table's column names (after open), or null when unknown. The engine then adds only
   * the record metadata fields (key, value, topic, ...) that the table can hold.
   */
  targetColumns?(): Promise<readonly string[] | null>
}

/** A record that does not go to the target table, with its reason. */
export interface DeadLetter {
  readonly record: SourceRecord
  readonly code: ErrorCode
  readonly reason: string
}

/**
 * Writes one batch's dead letters and routed late records inside the batch transaction `Tx`
 * (a DLQ table, the outbox of a Kafka DLQ, the late table), so after any crash each source
 * record is in exactly one place.
 */
export interface DeadLetterWriter<Tx> {
  write(tx: Tx, batchId: number, dead: readonly DeadLetter[], late: readonly DeadLetter[]): Promise<void>
  /** After the commit: publishes what the batch committed for Kafka destinations (outbox relay). */
  afterCommit?(signal: AbortSignal): Promise<void>
  close?(): Promise<void>
}
