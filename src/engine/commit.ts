/**
 * One batch's commit as the engine sequences it: the store opens the batch transaction (tracker row,
 * fence), the table writer writes the rows, the rows it refused become dead letters, the dead-letter
 * writer writes them with the batch's own dead letters and late records, the store saves the state
 * and commits. The engine sees the store and the writers only through their small contracts.
 */
import type { KeyedState, StateScope } from '../api/keyed-state.ts'
import type { BatchMark, CommitStore } from '../api/store.ts'
import type { Row } from '../api/record.ts'
import type { DeadLetter, DeadLetterWriter, RejectedRow, TableBatch, TableWriter } from '../api/writer.ts'
import { SluiceError } from '../errors.ts'

/** A store and the writers that write inside its transactions (all of one family: same `Tx`). */
export interface CommitParts<Tx> {
  readonly store: CommitStore<Tx>
  readonly table: TableWriter<Tx>
  readonly deadLetters: DeadLetterWriter<Tx>
  /** Keyed state of stateful steps (the deduplicate step); needed only by batches with a `dedup` claim. */
  readonly state?: KeyedState<Tx>
}

/**
 * The deduplicate step's claim of a batch: the key of every table row (the engine already dropped
 * repeats within the batch), decided against the keys the store remembers, in the transaction.
 */
export interface DedupClaim {
  readonly scope: StateScope
  /** The key of each row of `table.rows`, in order. */
  readonly keys: readonly string[]
  /** Key -> expiry (epoch ms) to remember. */
  readonly entries: ReadonlyMap<string, number>
  /** Remembered keys with an expiry at or before this are forgotten (null: none). */
  readonly expiredAt: number | null
  /** Live keys take the new expiry too (a processing-time timeout renewed by new data). */
  readonly renew: boolean
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
  readonly dedup?: DedupClaim
}

export interface CommitResult {
  /** `duplicate`: the batch id was already committed, nothing was written. */
  readonly status: 'committed' | 'duplicate'
  /** The id the batch committed under (with a shared pipeline the store's, else the planned one). */
  readonly batchId: number
  readonly written: number
  readonly rejected: readonly RejectedRow[]
  /** Rows left out because the store remembered their key (the deduplicate step): filtered. */
  readonly duplicateRows: number
  /** The pipeline's watermark as the store saved it (exactly-once); undefined when it saved none. */
  readonly watermarkMs?: number | null
}

/** Commits one batch through the store: rows, dead letters, late records, tracker row, position, state. */
export async function commitBatch<Tx>(parts: CommitParts<Tx>, batch: BatchToCommit): Promise<CommitResult> {
  let duplicateRows = 0
  const outcome = await parts.store.commit(batch.mark, async (tx, batchId) => {
    const table = batch.dedup === undefined ? batch.table : await claimKeys(parts, tx, batch.table, batch.dedup)
    duplicateRows = batch.table.rows.length - table.rows.length
    const rows = await parts.table.write(tx, table, batch.onRejected !== undefined)
    if (batch.dedup !== undefined && rows.rejected.length > 0) await forgetRejected(parts, tx, table, rows.rejected, batch.dedup)
    const refused = rows.rejected.length > 0 && batch.onRejected !== undefined ? batch.onRejected(rows.rejected) : []
    const dead = refused.length > 0 ? [...batch.dead, ...refused] : batch.dead
    // Only a batch with dead letters or late records takes its id before the end (they carry it).
    if (dead.length > 0 || batch.late.length > 0) await parts.deadLetters.write(tx, await batchId(), dead, batch.late)
    return rows
  })
  if (outcome.status === 'duplicate') return { status: 'duplicate', batchId: batch.mark.batchId, written: 0, rejected: [], duplicateRows: 0 }
  return {
    status: 'committed',
    batchId: outcome.batchId,
    written: outcome.value.written,
    rejected: outcome.value.rejected,
    duplicateRows,
    ...(outcome.watermarkMs === undefined ? {} : { watermarkMs: outcome.watermarkMs }),
  }
}


/** The rows whose key the store did not remember (absent or expired); the store now remembers them. */
async function claimKeys<Tx>(parts: CommitParts<Tx>, tx: Tx, table: TableBatch, claim: DedupClaim): Promise<TableBatch> {
  if (parts.state === undefined) throw new SluiceError('INTERNAL', 'a deduplicate step needs a store with keyed state')
  const fresh = await parts.state.claim(tx, claim.scope, claim.entries, claim.expiredAt, claim.renew)
  if (claim.expiredAt !== null) await parts.state.evict(tx, claim.scope, claim.expiredAt)
  return { ...table, rows: table.rows.filter((_, i) => fresh.has(claim.keys[i] as string)) }
}

/** A row the table refused goes to the DLQ: its key is not remembered, so a corrected record is not a duplicate. */
async function forgetRejected<Tx>(parts: CommitParts<Tx>, tx: Tx, table: TableBatch, rejected: readonly RejectedRow[], claim: DedupClaim): Promise<void> {
  const keyOf = new Map<Row, string>()
  claim.keys.forEach((k, i) => keyOf.set(table.rows[i] as Row, k))
  // table.rows was filtered: re-derive each kept row's key from the claim's order.
  const keys = rejected.map((r) => keyOf.get(r.row)).filter((k): k is string => k !== undefined)
  await parts.state?.forget(tx, claim.scope, keys)
}
