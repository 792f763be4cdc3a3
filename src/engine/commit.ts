/**
 * One batch's commit as the engine sequences it: the store opens the batch transaction (tracker row,
 * fence), the table writer writes the rows, the rows it refused become dead letters, the dead-letter
 * writer writes them with the batch's own dead letters and late records, the store saves the state
 * and commits. The engine sees the store and the writers only through their small contracts.
 */
import type { BatchMark, CommitStore } from '../api/store.ts'
import type { DeadLetter, DeadLetterWriter, RejectedRow, TableBatch, TableWriter } from '../api/writer.ts'

/** A store and the writers that write inside its transactions (all of one family: same `Tx`). */
export interface CommitParts<Tx> {
  readonly store: CommitStore<Tx>
  readonly table: TableWriter<Tx>
  readonly deadLetters: DeadLetterWriter<Tx>
}

/** Everything one batch commits. */
export interface BatchToCommit {
  readonly mark: BatchMark
  readonly table: TableBatch
  readonly dead: readonly DeadLetter[]
  /** Late records routed to a destination (sendtodlq / separatestream). */
  readonly late: readonly DeadLetter[]
  /**
   * Turns refused rows into dead letters (inside the transaction; it may throw to fail the batch,
   * as failFast does). Absent: a refused row fails the batch.
   */
  readonly onRejected?: (rejected: readonly RejectedRow[]) => readonly DeadLetter[]
}

export interface CommitResult {
  /** `duplicate`: the batch id was already committed, nothing was written. */
  readonly status: 'committed' | 'duplicate'
  /** The id the batch committed under (with a shared pipeline the store's, else the planned one). */
  readonly batchId: number
  readonly written: number
  readonly rejected: readonly RejectedRow[]
  /** The pipeline's watermark as the store saved it (exactly-once); undefined when it saved none. */
  readonly watermarkMs?: number | null
}

/** Commits one batch through the store: rows, dead letters, late records, tracker row, position, state. */
export async function commitBatch<Tx>(parts: CommitParts<Tx>, batch: BatchToCommit): Promise<CommitResult> {
  const outcome = await parts.store.commit(batch.mark, async (tx, batchId) => {
    const rows = await parts.table.write(tx, batch.table, batch.onRejected !== undefined)
    const refused = rows.rejected.length > 0 && batch.onRejected !== undefined ? batch.onRejected(rows.rejected) : []
    const dead = refused.length > 0 ? [...batch.dead, ...refused] : batch.dead
    // Only a batch with dead letters or late records takes its id before the end (they carry it).
    if (dead.length > 0 || batch.late.length > 0) await parts.deadLetters.write(tx, await batchId(), dead, batch.late)
    return rows
  })
  if (outcome.status === 'duplicate') return { status: 'duplicate', batchId: batch.mark.batchId, written: 0, rejected: [] }
  return {
    status: 'committed',
    batchId: outcome.batchId,
    written: outcome.value.written,
    rejected: outcome.value.rejected,
    ...(outcome.watermarkMs === undefined ? {} : { watermarkMs: outcome.watermarkMs }),
  }
}

