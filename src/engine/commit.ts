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
import type { WindowState } from '../api/window-state.ts'
import { SluiceError } from '../errors.ts'
import { type WindowClaim, type WindowOutcome, closedWindowRows, mergeWindowBatch } from './window-append.ts'
import { duplicateLetter } from './state/dedup.ts'

/** A store and the writers that write inside its transactions (all of one family: same `Tx`). */
export interface CommitParts<Tx> {
  readonly store: CommitStore<Tx>
  readonly table: TableWriter<Tx>
  readonly deadLetters: DeadLetterWriter<Tx>
  /** Keyed state of stateful steps (the deduplicate step); needed only by batches with a `dedup` claim. */
  readonly state?: KeyedState<Tx>
  /** Window state of the aggregate step in append mode; needed only by batches with a `windows` claim. */
  readonly windows?: WindowState<Tx>
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
  /** Rows whose key the store remembered go to the DLQ (RECORD_DUPLICATE) instead of being left out silently. */
  readonly toDlq?: boolean
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
  /** The aggregate step in append mode: the batch's rows for the window state (window-append.ts). */
  readonly windows?: WindowClaim
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
  /** What the window state made of the batch (the aggregate step in append mode). */
  readonly windows?: WindowOutcome
}

/** Commits one batch through the store: rows, dead letters, late records, tracker row, position, state. */
export async function commitBatch<Tx>(parts: CommitParts<Tx>, batch: BatchToCommit): Promise<CommitResult> {
  let duplicateRows = 0
  let windows: WindowOutcome | undefined
  const outcome = await parts.store.commit(
    batch.mark,
    async (tx, batchId) => {
      const table = batch.dedup === undefined ? batch.table : await claimKeys(parts, tx, batch.table, batch.dedup)
      duplicateRows = batch.table.rows.length - table.rows.length
      const duplicates = batch.dedup?.toDlq === true && duplicateRows > 0 ? duplicateLetters(batch.table, table, batch.dedup) : []
      const folded = batch.windows === undefined ? null : await mergeWindowBatch(windowState(parts), tx, batch.windows)
      // Complete mode (sessions): the sessions the batch changed replace their rows in the table.
      const written = folded?.changes ? { ...table, rows: [...table.rows, ...folded.changes.rows], removed: folded.changes.removed } : table
      const rows = await parts.table.write(tx, written, batch.onRejected !== undefined)
      if (batch.dedup !== undefined && rows.rejected.length > 0) await forgetRejected(parts, tx, table, rows.rejected, batch.dedup)
      const refused = rows.rejected.length > 0 && batch.onRejected !== undefined ? batch.onRejected(rows.rejected) : []
      const dead = refused.length > 0 || duplicates.length > 0 ? [...batch.dead, ...duplicates, ...refused] : batch.dead
      const late = folded === null || folded.late.length === 0 || !(batch.windows as WindowClaim).routeLate ? batch.late : [...batch.late, ...folded.late]
      // Only a batch with dead letters or late records takes its id before the end (they carry it).
      if (dead.length > 0 || late.length > 0) await parts.deadLetters.write(tx, await batchId(), dead, late)
      if (folded !== null) windows = { counted: folded.counted, late: folded.late, emitted: folded.changes?.rows.length ?? 0, refused: 0 }
      return rows
    },
    batch.windows === undefined || batch.windows.mode === 'complete' ? undefined : (tx, batchId, watermarkMs) => emitWindows(parts, tx, batch, batchId, watermarkMs, (emitted, refused) => (windows = { ...(windows as WindowOutcome), emitted, refused })),
  )
  if (outcome.status === 'duplicate') return { status: 'duplicate', batchId: batch.mark.batchId, written: 0, rejected: [], duplicateRows: 0 }
  return {
    status: 'committed',
    batchId: outcome.batchId,
    written: outcome.value.written,
    rejected: outcome.value.rejected,
    duplicateRows,
    ...(outcome.watermarkMs === undefined ? {} : { watermarkMs: outcome.watermarkMs }),
    ...(windows === undefined ? {} : { windows }),
  }
}

function windowState<Tx>(parts: CommitParts<Tx>): WindowState<Tx> {
  if (parts.windows === undefined) throw new SluiceError('INTERNAL', 'an append-mode aggregate needs a store with window state')
  return parts.windows
}

/**
 * After the store saved the batch's watermark: the windows it closes are written, once (their
 * state is deleted in the same transaction); a row the table refuses is a dead letter.
 */
async function emitWindows<Tx>(parts: CommitParts<Tx>, tx: Tx, batch: BatchToCommit, batchId: number, watermarkMs: number | null, done: (emitted: number, refused: number) => void): Promise<void> {
  const rows = await closedWindowRows(windowState(parts), tx, batch.windows as WindowClaim, watermarkMs)
  if (rows.length === 0) return done(0, 0)
  const written = await parts.table.write(tx, { rows, deletes: [] }, batch.onRejected !== undefined)
  const refused = written.rejected.length > 0 && batch.onRejected !== undefined ? batch.onRejected(written.rejected) : []
  if (refused.length > 0) await parts.deadLetters.write(tx, batchId, refused, [])
  done(written.written, written.rejected.length)
}


/** The rows whose key the store did not remember (absent or expired); the store now remembers them. */
async function claimKeys<Tx>(parts: CommitParts<Tx>, tx: Tx, table: TableBatch, claim: DedupClaim): Promise<TableBatch> {
  if (parts.state === undefined) throw new SluiceError('INTERNAL', 'a deduplicate step needs a store with keyed state')
  const fresh = await parts.state.claim(tx, claim.scope, claim.entries, claim.expiredAt, claim.renew)
  if (claim.expiredAt !== null) await parts.state.evict(tx, claim.scope, claim.expiredAt)
  return { ...table, rows: table.rows.filter((_, i) => fresh.has(claim.keys[i] as string)) }
}

/** The dead letters of the rows claimKeys left out (their key was remembered from an earlier batch). */
function duplicateLetters(before: TableBatch, after: TableBatch, claim: DedupClaim): DeadLetter[] {
  const kept = new Set(after.rows)
  return before.rows.flatMap((row, i) => (kept.has(row) ? [] : [duplicateLetter(row, claim.keys[i] as string, 'an earlier batch')]))
}

/** A row the table refused goes to the DLQ: its key is not remembered, so a corrected record is not a duplicate. */
async function forgetRejected<Tx>(parts: CommitParts<Tx>, tx: Tx, table: TableBatch, rejected: readonly RejectedRow[], claim: DedupClaim): Promise<void> {
  const keyOf = new Map<Row, string>()
  claim.keys.forEach((k, i) => keyOf.set(table.rows[i] as Row, k))
  // table.rows was filtered: re-derive each kept row's key from the claim's order.
  const keys = rejected.map((r) => keyOf.get(r.row)).filter((k): k is string => k !== undefined)
  await parts.state?.forget(tx, claim.scope, keys)
}
