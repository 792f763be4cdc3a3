/**
 * One streaming query: the micro-batch loop that moves records from a Source into a commit store.
 *
 *   resume  -> plan batch N (source.plan) -> write offsets/N (WAL) -> read + route records
 *           -> store.commit (tracker row + fence, then the writers' rows and dead letters, then
 *              the position and state: ONE transaction, commit.ts)
 *           -> write commits/N -> source.committed (consumer-group offsets, file cleanup) -> N+1
 *
 * A failed attempt is retried as the same batch (same range, same id) while the error is
 * retryable; the circuit breaker stops fetching after repeated failures and lets one trial batch
 * through after its reset timeout. A non-retryable error stops the query.
 */
import type { Logger } from '../api/component.ts'
import { type Position, advance, changedPartitions } from '../api/position.ts'
import type { StoreControl } from '../api/store.ts'
import type { TableWriter } from '../api/writer.ts'
import type { ReadLimits, Source } from '../api/source.ts'
import { isSluiceError, toSluiceError } from '../errors.ts'
import { abortableSleep } from '../reliability/retry.ts'
import type { CheckpointLog, PlannedBatch } from './checkpoint.ts'
import type { EngineEvents } from './events.ts'
import { resolveResumePoint } from './recovery.ts'
import { workerId } from './worker-id.ts'
import { failpoint } from '../failpoint.ts'
import { QueryProbes } from './probes.ts'
import { type BatchRunner, type BatchResult } from './batch-runner.ts'
import { ReadAhead, type PlannedEnd, type ReadAheadSteps } from './read-ahead.ts'
import type { ProcessedBatch } from './records.ts'
import type { TriggerPolicy } from './trigger.ts'

/**
 * Default cap of records per batch when no limit is configured: keeps memory bounded. With the
 * read-ahead two batches are in memory; 50,000 loads as fast as 100,000 did (docs/benchmarks.md).
 */
export const DEFAULT_MAX_RECORDS_PER_BATCH = 50_000

/**
 * Default cap of bytes per batch (maxBytesPerTrigger): the record cap alone lets 50,000 records
 * of 10 KB make a 500 MB batch, twice with the read-ahead (2.2 GiB peak RSS). A batch costs far
 * more than its bytes in memory (the fetched buffers, the decoded text, the parsed values, the
 * COPY text, the heap's headroom): 100,000 x 10 KB peaked at 530 MiB with 32 MiB batches and
 * 439 MiB with 16 MiB (docs/benchmarks.md). 16 MiB leaves the 50,000-record cap in charge for
 * records below ~335 bytes, so small records batch as before.
 */
export const DEFAULT_MAX_BYTES_PER_BATCH = 16 * 1024 * 1024

export interface QueryOptions<Tx = unknown> {
  readonly pipelineId: string
  readonly source: Source
  /** The commit store's start-up and recovery side (the runner commits through it). */
  readonly store: StoreControl
  /** The table writer's start-up side: resolving the table, its columns. */
  readonly table: Pick<TableWriter<never>, 'open' | 'targetColumns'>
  readonly checkpoint: CheckpointLog | null
  readonly trigger: TriggerPolicy
  readonly limits: ReadLimits
  readonly exactlyOnce: boolean
  readonly runner: BatchRunner<Tx>
  readonly events: EngineEvents
  readonly logger: Logger
  readonly now?: () => number
}

/** What a query did, for the run summary. */
export interface QuerySummary {
  readonly pipelineId: string
  batches: number
  duplicates: number
  recordsRead: number
  written: number
  dlq: number
  late: number
  filtered: number
  lastBatchId: number | null
  position: Position
  watermarkMs: number | null
}

/** Runs one pipeline's micro-batch loop until its trigger is drained or `signal` aborts. */
export class Query<Tx = unknown> {
  readonly #o: QueryOptions<Tx>
  readonly summary: QuerySummary

  constructor(options: QueryOptions<Tx>) {
    this.#o = options
    this.summary = {
      pipelineId: options.pipelineId,
      batches: 0,
      duplicates: 0,
      recordsRead: 0,
      written: 0,
      dlq: 0,
      late: 0,
      filtered: 0,
      lastBatchId: null,
      position: {},
      watermarkMs: null,
    }
  }

  /**
   * Runs the loop. `stop` ends it between batches (graceful shutdown: the batch in flight
   * finishes); `abort` cancels the batch in flight (its transaction rolls back).
   */
  async run(stop: AbortSignal, abort: AbortSignal): Promise<QuerySummary> {
    const o = this.#o
    const now = o.now ?? Date.now
    const { pipelineId, source, store, table, checkpoint, trigger, events, logger } = o
    events.emit('query.state', { pipelineId, state: 'starting' })
    // A source or database that is not up yet is waited for like a failing batch: retries, then the circuit.
    await o.runner.withRetry(null, () => source.open(abort), stop)
    await o.runner.withRetry(null, () => store.open(abort), stop)
    await o.runner.withRetry(null, () => table.open(abort), stop)
    o.runner.useTargetColumns((await table.targetColumns?.()) ?? null)
    // Several workers share the pipeline when the source's partitions are owned (a consumer group,
    // or assign): the store holds every position and numbers the batches; the write-ahead log of
    // one worker would mean nothing to the others, so it is not used (docs/design/scale-out.md).
    const ownership = source.ownership
    const shared = ownership !== undefined && o.exactlyOnce
    o.runner.shareWithWorkers(shared)
    if (shared && checkpoint) logger.info({ checkpointLocation: checkpoint.location }, 'several workers may share this pipeline: positions come from the database, the checkpoint folder is not used')
    const wal = shared ? null : checkpoint
    if (wal) await wal.init(pipelineId)
    const db = o.exactlyOnce ? await o.runner.withRetry(null, () => store.committedState(pipelineId), stop) : null
    const resume = await resolveResumePoint(db, wal, o.exactlyOnce, logger)
    let { nextBatchId, position, watermarkMs } = resume
    let replay = resume.replay
    if (Object.keys(position).length === 0 && replay === null) position = await source.initialPosition(abort)
    logger.info({ nextBatchId, replay: replay?.batchId ?? null, partitions: Object.keys(position).length }, 'query resumed')
    // Lag and tracker size for metrics and /status: throttled, fire-and-forget, never on the batch path.
    const probes = new QueryProbes({ pipelineId, source, store, events, logger, countTracker: o.exactlyOnce, now })
    probes.trackerSize(true)
    probes.lag(position, true)

    // availablenow: the data present at start is the goal; anything newer waits for the next run.
    const until = trigger.bounded && source.latest ? await source.latest(abort) : null
    const limits: ReadLimits = {
      maxRecords: o.limits.maxRecords ?? DEFAULT_MAX_RECORDS_PER_BATCH,
      maxBytes: o.limits.maxBytes ?? DEFAULT_MAX_BYTES_PER_BATCH,
      ...(o.limits.maxFiles ? { maxFiles: o.limits.maxFiles } : {}),
    }
    let idle = 0
    events.emit('query.state', { pipelineId, state: 'running' })
    // Partition ownership (a consumer group): a revocation waits for the batch in flight; a new
    // generation makes the loop take the owned partitions' positions from the store again.
    let generation = ownership?.generation ?? 0
    const announce = (): void => events.emit('partitions.owned', { pipelineId, worker: workerId(), owned: ownership === undefined ? null : [...ownership.owned()], generation })
    announce()
    let inFlight: Promise<unknown> = Promise.resolve()
    ownership?.onRevoke(async (revoked) => {
      logger.info({ revoked }, 'partitions revoked; finishing the batch in flight first')
      await inFlight.catch(() => {})
    })

    // Read-ahead (read-ahead.ts) where the next batch starts as soon as this one commits; a
    // processing-time trigger decides at its tick what the batch holds, so it never reads ahead.
    const readAheadOn = !trigger.single && trigger.mode.type !== 'processingtime'
    const steps: ReadAheadSteps = { plan: (start, signal) => planNext(source, start, limits, until, signal), read: (p, signal) => o.runner.readOnce(p, signal) }
    let ahead: ReadAhead | null = null
    try {
      while (!stop.aborted) {
        let planned: PlannedBatch
        let processed: ProcessedBatch | null = null
        const isReplay = replay !== null
        if (replay) {
          planned = replay
          replay = null
          logger.warn({ batchId: planned.batchId }, 're-running a planned batch that did not commit')
        } else {
          await abortableSleep(trigger.delayBeforeNext(now()), stop)
          if (stop.aborted) break
          const triggeredAt = now()
          trigger.startTick(triggeredAt)
          await o.runner.waitForCircuit(stop)
          if (stop.aborted) break
          let end: PlannedEnd = null
          let pending: Promise<ProcessedBatch | null> | null = null
          let applied = watermarkMs
          if (ownership !== undefined && ownership.generation !== generation) {
            generation = ownership.generation
            if (ahead !== null) await ahead.discard()
            ahead = null
            position = await o.runner.withRetry(nextBatchId, () => ownedPosition(store, pipelineId, ownership.owned()), stop)
            logger.info({ partitions: Object.keys(position), generation }, 'owned partitions changed; resuming them from the store')
            announce()
          }
          if (ahead !== null) {
            const a: ReadAhead = ahead
            ahead = null
            if (a.matches(nextBatchId, position, watermarkMs, o.runner.watermarkMayLag)) end = await a.end
            if (end !== null) pending = a.processed
            else await a.discard()
            // The batch applies the watermark it was read with (with workers sharing the pipeline,
            // possibly older than the one committed since: never higher).
            if (end !== null) applied = a.watermarkMs
          }
          end ??= await o.runner.withRetry(nextBatchId, () => planNext(source, position, limits, until, abort), stop)
          if (end === null) {
            if (trigger.bounded) break
            events.emit('query.state', { pipelineId, state: 'idle' })
            probes.lag(position)
            await abortableSleep(trigger.idleDelay(idle++, now()), stop)
            continue
          }
          // Back from idle: /status and the state metric must not say idle while a batch runs.
          if (idle > 0) events.emit('query.state', { pipelineId, state: 'running' })
          idle = 0
          planned = { batchId: nextBatchId, start: position, end, watermarkMs: applied, plannedAt: new Date(triggeredAt).toISOString() }
          // The write-ahead record comes first, read ahead or not: a re-run reads exactly this range.
          if (wal) await wal.writePlanned(planned)
          await failpoint('after-plan', planned.batchId)
          if (pending !== null) {
            processed = await pending.catch((err: unknown) => {
              logger.debug({ batchId: nextBatchId, err: toSluiceError(err).message }, 'read-ahead failed; reading the batch again')
              return null
            })
          }
        }
        // From its plan to its commit the batch is in flight: a revocation waits for it.
        let landed: () => void = () => {}
        inFlight = new Promise<void>((resolve) => (landed = resolve))
        events.emit('batch.planned', { pipelineId, batchId: planned.batchId, replay: isReplay, start: planned.start, end: planned.end })

        // With a read-ahead, the batch's duration counts from here: its read overlapped the previous write.
        const started = now()
        let result: BatchResult
        try {
          processed ??= await o.runner.read(planned, abort)
          if (readAheadOn && !stop.aborted) ahead = new ReadAhead(planned.batchId + 1, advance(planned.start, planned.end), o.runner.readAheadWatermark(planned, processed), steps, abort)
          result = await o.runner.write(planned, processed, abort, started)
        } catch (err) {
          // Another worker committed a partition of this batch (the group moved it while the batch
          // was in flight): nothing of it landed; resume the owned partitions from the store.
          if (!shared || !isSluiceError(err, 'SINK_FENCED') || ownership === undefined) throw err
          logger.warn({ batchId: planned.batchId, err: err.message }, 'batch fenced by another worker; resuming the owned partitions from the database')
          if (ahead !== null) await ahead.discard()
          ahead = null
          position = await o.runner.withRetry(nextBatchId, () => ownedPosition(store, pipelineId, ownership.owned()), stop)
          continue
        } finally {
          landed()
        }
        this.#account(result)
        position = advance(planned.start, planned.end)
        watermarkMs = result.nextWatermarkMs
        if (result.status === 'duplicate' && o.exactlyOnce) {
          // Someone (an earlier attempt whose COMMIT reply was lost) committed this batch: take the database's word.
          const state = await store.committedState(pipelineId)
          if (state) {
            position = state.position
            watermarkMs = state.watermarkMs
          }
        }
        await failpoint('before-commit-file', planned.batchId)
        if (wal) await wal.writeCommitted({ batchId: planned.batchId, nextWatermarkMs: watermarkMs, end: position })
        await failpoint('after-commit-file', planned.batchId)
        this.summary.lastBatchId = result.batchId
        this.summary.position = position
        this.summary.watermarkMs = watermarkMs
        // The next plan's id; with a shared pipeline only a hint (the store numbers what commits).
        nextBatchId = planned.batchId + 1
        await o.runner.afterCommit(position)
        probes.lag(position)
        probes.trackerSize()
        if (trigger.single) break
      }
    } finally {
      // Stopped, failed or drained: a read-ahead still running must let go of the source first,
      // and the last post-commit hook (group offsets, file cleanup) finishes before the query ends.
      if (ahead !== null) await ahead.discard()
      await o.runner.settle()
    }
    await probes.settle()
    events.emit('query.state', { pipelineId, state: 'stopped' })
    return this.summary
  }

  #account(result: BatchResult): void {
    const s = this.summary
    s.batches++
    if (result.status === 'duplicate') s.duplicates++
    s.recordsRead += result.recordsRead
    s.written += result.written
    s.dlq += result.dlq
    s.late += result.late
    s.filtered += result.filtered
  }
}

/**
 * Where the owned partitions resume: their positions as the store holds them (whoever committed
 * them last); a partition the store has no position for starts at the source's initial position.
 */
export async function ownedPosition(store: StoreControl, pipelineId: string, owned: ReadonlySet<string>): Promise<Position> {
  const stored = (await store.committedState(pipelineId))?.position ?? {}
  const out: Record<string, string> = {}
  for (const key of owned) if (stored[key] !== undefined) out[key] = stored[key]
  return out
}

/** Plans the batch after `start`: the partitions it moves and where they end, or null when there is nothing new. */
export async function planNext(source: Source, start: Position, limits: ReadLimits, until: Position | null, signal: AbortSignal): Promise<PlannedEnd> {
  const planEnd = await source.plan(start, limits, signal)
  const end = planEnd && until ? clamp(planEnd, until, start) : planEnd
  if (!end) return null
  const range = { start, end }
  const moved: Record<string, string> = {}
  for (const p of changedPartitions(range)) moved[p] = end[p] as string
  return Object.keys(moved).length === 0 ? null : moved
}

/**
 * Caps a planned end at the availablenow snapshot: numeric positions take the minimum (never
 * below the start), partitions that appeared after the snapshot wait for the next run.
 */
export function clamp(end: Position, until: Position, start: Position = {}): Position {
  const out: Record<string, string> = {}
  for (const [p, v] of Object.entries(end)) {
    const cap = until[p]
    if (cap === undefined) continue
    const from = start[p]
    if (/^\d+$/.test(v) && /^\d+$/.test(cap)) {
      let bounded = BigInt(v) <= BigInt(cap) ? BigInt(v) : BigInt(cap)
      if (from !== undefined && /^\d+$/.test(from) && bounded < BigInt(from)) bounded = BigInt(from)
      out[p] = String(bounded)
    } else out[p] = v
  }
  return out
}
