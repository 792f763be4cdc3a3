/**
 * Window state of the aggregate step in append mode: the partial aggregate of every open
 * (group, window), kept by the store inside the batch transaction `Tx` until the watermark passes
 * the window's end, when the window's row is written once and its state deleted in the same
 * transaction. Exactly-once covers it: a batch that rolls back changes no state, a crash loses none.
 */
import type { StateScope } from './keyed-state.ts'

/** One open window's state: its key, the end that closes it (epoch ms) and the engine's JSON of its partial aggregate. */
export interface StoredWindow {
  readonly key: string
  readonly endMs: number
  readonly state: unknown
  /** A session with a stateTimeout: it also closes once the batch time passes this (epoch ms). */
  readonly expiresMs?: number | null
}

export interface WindowState<Tx> {
  /**
   * Takes the pipeline's window lock until the transaction ends (no other worker's batch can merge
   * or close windows between this call and this batch's commit), then reads the committed watermark.
   */
  lockWatermark(tx: Tx, pipelineId: string): Promise<number | null>
  /** The stored states of these keys (absent: none), locked until the transaction ends. */
  load(tx: Tx, scope: StateScope, keys: readonly string[]): Promise<ReadonlyMap<string, unknown>>
  /** The stored states whose key starts with one of `prefixes` (a group's sessions), locked until the transaction ends. */
  loadPrefixed(tx: Tx, scope: StateScope, prefixes: readonly string[]): Promise<StoredWindow[]>
  /** Inserts or replaces the states. */
  save(tx: Tx, scope: StateScope, windows: readonly StoredWindow[]): Promise<void>
  /** Deletes states (sessions merged into others). */
  delete(tx: Tx, scope: StateScope, keys: readonly string[]): Promise<void>
  /**
   * Deletes and returns the states whose end is at or before `watermarkMs` or whose expiry is before
   * `nowMs` (null: neither test), earliest end first, then by key: exactly the windows this
   * transaction closes (a window deleted once is never returned to another transaction).
   */
  close(tx: Tx, scope: StateScope, watermarkMs: number | null, nowMs: number | null): Promise<StoredWindow[]>
  /** Number of open windows of the step (the state table's size, for tests and operators). */
  count(tx: Tx, scope: StateScope): Promise<number>
}
