/**
 * Side measurements of a running query: consumer lag (the source's latest position against the
 * committed one) and the pipeline's batch_tracker size. They feed metrics and /status only, so they
 * run fire-and-forget and throttled, off the batch path: a slow broker or database never delays a
 * commit, and a failed probe is a debug log line, never a failed batch.
 */
import type { Logger } from '../api/component.ts'
import type { Position } from '../api/position.ts'
import type { StoreControl } from '../api/store.ts'
import type { Source } from '../api/source.ts'
import { toSluiceError } from '../errors.ts'
import type { EngineEvents } from './events.ts'

/** Lag is measured at most this often (ms). */
export const LAG_INTERVAL_MS = 5_000
/** The tracker is counted at most this often after commits (ms). */
export const TRACKER_INTERVAL_MS = 30_000
/** A probe that takes longer is abandoned. */
const PROBE_TIMEOUT_MS = 10_000

export interface QueryProbeOptions {
  readonly pipelineId: string
  readonly source: Source
  readonly store: StoreControl
  readonly events: EngineEvents
  readonly logger: Logger
  /** Count tracker rows (exactly-once pipelines only: others write none). */
  readonly countTracker: boolean
  readonly now?: () => number
}

/**
 * The latest source position each query's lag probe last measured, per event bus. The batch report
 * reads it for its progress (latestOffset, backlog) without waiting on the source: the batch path
 * never calls latest() itself. Keyed by the bus, so it goes away with the run.
 */
const measured = new WeakMap<EngineEvents, Map<string, Position>>()

/** The latest position last measured for `pipelineId` on `events`, or undefined before the first probe. */
export function lastMeasuredLatest(events: EngineEvents, pipelineId: string): Position | undefined {
  return measured.get(events)?.get(pipelineId)
}

/** Records behind `latest` per partition, for partitions where both positions are offsets. */
export function lagOf(position: Position, latest: Position): Record<string, number> {
  const lag: Record<string, number> = {}
  for (const [partition, end] of Object.entries(latest)) {
    const at = position[partition]
    if (at === undefined || !/^\d+$/.test(at) || !/^\d+$/.test(end)) continue
    const behind = BigInt(end) - BigInt(at)
    lag[partition] = behind > 0n ? Number(behind) : 0
  }
  return lag
}

/** Throttled, non-blocking lag and tracker-size probes of one query. */
export class QueryProbes {
  readonly #o: QueryProbeOptions
  readonly #now: () => number
  readonly #inFlight = new Set<Promise<void>>()
  #lagAt = Number.NEGATIVE_INFINITY
  #trackerAt = Number.NEGATIVE_INFINITY
  #lagBusy = false
  #trackerBusy = false

  constructor(options: QueryProbeOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  /** Measures lag against `position` unless one ran in the last LAG_INTERVAL_MS (or `force`); never waits. */
  lag(position: Position, force = false): void {
    const latest = this.#o.source.latest?.bind(this.#o.source)
    if (!latest || this.#lagBusy || (!force && this.#now() - this.#lagAt < LAG_INTERVAL_MS)) return
    this.#lagAt = this.#now()
    this.#lagBusy = true
    this.#track(
      (async () => {
        const at = await latest(AbortSignal.timeout(PROBE_TIMEOUT_MS))
        const { events, pipelineId } = this.#o
        if (!measured.has(events)) measured.set(events, new Map())
        measured.get(events)?.set(pipelineId, at)
        events.emit('source.lag', { pipelineId, lag: lagOf(position, at), latest: at })
      })(),
      'lag',
      () => (this.#lagBusy = false),
    )
  }

  /**
   * Counts the pipeline's tracker rows. `start` counts at once without starting the throttle, so the
   * first commit reports too; after that, at most once per TRACKER_INTERVAL_MS.
   */
  trackerSize(start = false): void {
    const count = this.#o.store.trackerSize?.bind(this.#o.store)
    if (!count || !this.#o.countTracker || this.#trackerBusy) return
    if (!start) {
      if (this.#now() - this.#trackerAt < TRACKER_INTERVAL_MS) return
      this.#trackerAt = this.#now()
    }
    this.#trackerBusy = true
    this.#track(
      (async () => {
        const rows = await count(this.#o.pipelineId)
        this.#o.events.emit('tracker.size', { pipelineId: this.#o.pipelineId, rows })
      })(),
      'tracker size',
      () => (this.#trackerBusy = false),
    )
  }

  /** Waits (at most `timeoutMs`) for probes in flight, so none outlives the connections it uses. */
  async settle(timeoutMs = 2_000): Promise<void> {
    if (this.#inFlight.size === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))])
    clearTimeout(timer)
  }

  #track(work: Promise<void>, what: string, done: () => void): void {
    const p = work
      .catch((err: unknown) => {
        const error = toSluiceError(err)
        this.#o.logger.debug({ probe: what, code: error.code, err: error.message }, 'monitoring probe failed (metrics only)')
      })
      .finally(() => {
        done()
        this.#inFlight.delete(p)
      })
    this.#inFlight.add(p)
  }
}
