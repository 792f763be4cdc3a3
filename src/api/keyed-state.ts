/**
 * Keyed state of a stateful step (the deduplicate step's remembered keys), kept by the store inside
 * the batch transaction `Tx`, so exactly-once covers it: a batch that rolls back remembers nothing,
 * a crash loses nothing, and a key claimed by one worker is seen by every other (the claim's row
 * lock makes a concurrent claim of the same key wait for the outcome).
 */

/** Whose state: one pipeline's step. */
export interface StateScope {
  readonly pipelineId: string
  /** The step's name in the pipeline (its position among the transform steps, e.g. "transform[2]"). */
  readonly step: string
}

export interface KeyedState<Tx> extends KeyedStateForget<Tx> {
  /**
   * Remembers each key with its expiry (epoch ms) and returns the keys that were new: absent, or
   * expired (expiry at or before `expiredAt`; null: nothing has expired). A key already remembered
   * keeps its expiry unless `renew`, which gives every key of `entries` the new one.
   */
  claim(tx: Tx, scope: StateScope, entries: ReadonlyMap<string, number>, expiredAt: number | null, renew: boolean): Promise<ReadonlySet<string>>
  /** Forgets the keys of the step whose expiry is at or before `expiredAt`. */
  evict(tx: Tx, scope: StateScope, expiredAt: number): Promise<void>
}

/** Forgetting claimed keys again: a row the table refused is not its key's first occurrence. */
export interface KeyedStateForget<Tx> {
  forget(tx: Tx, scope: StateScope, keys: readonly string[]): Promise<void>
}
