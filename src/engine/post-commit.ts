/**
 * The source's post-commit hook (consumer-group offsets for lag tools, file cleanup) runs off the
 * batch path: a consumer group that is rebalancing can hold a member's offset commit for seconds,
 * and that must not hold the next batch. One call at a time, for the newest committed position
 * (positions are cumulative, so a call for the newest covers any it skipped), and at most one call
 * per `minIntervalMs`: with small continuous batches an offset commit per batch is a round trip to
 * the group coordinator per batch for a figure that lag tools read every few seconds (Kafka
 * Connect commits every 60 s by default). The stored position in the database is what recovery
 * uses, so a later hook call never risks a record. `settle()` runs the newest one at once.
 */
import type { Logger } from '../api/component.ts'
import type { Position } from '../api/position.ts'
import { toSluiceError } from '../errors.ts'

/** Default spacing of the hook calls. */
export const POST_COMMIT_INTERVAL_MS = 1000

export class PostCommitQueue {
  readonly #hook: (position: Position) => Promise<void>
  readonly #minIntervalMs: number
  readonly #logger: Logger
  #next: Position | null = null
  #running: Promise<void> | null = null
  #lastStart = Number.NEGATIVE_INFINITY
  /** Ends the wait between two calls early (settle). */
  #wake: (() => void) | null = null
  #settling = false

  constructor(hook: (position: Position) => Promise<void>, logger: Logger, minIntervalMs = POST_COMMIT_INTERVAL_MS) {
    this.#hook = hook
    this.#logger = logger
    this.#minIntervalMs = minIntervalMs
  }

  /** A batch committed up to `position`. */
  push(position: Position): void {
    this.#next = position
    this.#running ??= this.#drain()
  }

  /** Runs the newest pending call now and waits for it (the query's end). */
  async settle(): Promise<void> {
    this.#settling = true
    try {
      this.#wake?.()
      await this.#running
    } finally {
      this.#settling = false
    }
  }

  async #drain(): Promise<void> {
    while (this.#next !== null) {
      const wait = this.#lastStart + this.#minIntervalMs - performance.now()
      if (wait > 0 && !this.#settling) {
        await this.#pause(wait)
        this.#wake = null
      }
      const next = this.#next
      this.#next = null
      this.#lastStart = performance.now()
      try {
        await this.#hook(next)
      } catch (err) {
        this.#logger.warn({ err: toSluiceError(err).message }, 'post-commit source hook failed (data is committed)')
      }
    }
    this.#running = null
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      // The wait alone never keeps the process alive: the query's end settles it.
      timer.unref()
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    })
  }
}
