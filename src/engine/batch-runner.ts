/**
 * Runs one planned micro-batch to its commit: read the planned range, route every record
 * (records.ts), hand rows and dead letters to the store's batch transaction (commit.ts), and retry transient
 * failures as the same batch. The circuit breaker sits in front of every attempt, so an open
 * circuit stops fetching as well as writing.
 */
import type { Logger } from '../api/component.ts'
import type { Position } from '../api/position.ts'
import type { Row, SourceRecord } from '../api/record.ts'
import type { DeadLetter, RejectedRow } from '../api/writer.ts'
import type { Source } from '../api/source.ts'
import type { BatchMark, PartitionWatermarkRule } from '../api/store.ts'
import { SluiceError, isSluiceError, toSluiceError } from '../errors.ts'
import type { CircuitBreaker } from '../reliability/circuit-breaker.ts'
import { type RetryConfig, retry } from '../reliability/retry.ts'
import type { PlannedBatch } from './checkpoint.ts'
import { reportBatch } from './batch-report.ts'
import { failpoint, setFailpointBatch } from '../failpoint.ts'
import type { EngineEvents } from './events.ts'
import { FlatUse } from './flat-row.ts'
import { type MetadataAdder, type SourceKind, metadataFor } from './metadata.ts'
import { type AggregateSpec, aggregateRows, mergeRules } from './aggregate.ts'
import { type ProcessedBatch, RecordPath, type RecordPathOptions } from './records.ts'
import { DEFAULT_IDLE_TIMEOUT_MS } from './watermark.ts'
import { type DeduplicateOptions, deduplicateRows } from './deduplicate.ts'
import { type CommitParts, type CommitResult, commitBatch } from './commit.ts'
import { PostCommitQueue } from './post-commit.ts'
import { type WindowAppendOptions, claimWindows } from './window-append.ts'

export type LateStrategy = 'drop' | 'loganddrop' | 'sendtodlq' | 'separatestream'

export interface BatchRunnerOptions<Tx> {
  readonly pipelineId: string
  readonly source: Source
  /** The commit store and the writers that write inside its batch transaction. */
  readonly commit: CommitParts<Tx>
  readonly exactlyOnce: boolean
  readonly checkpointLocation: string | null
  readonly retry: RetryConfig
  readonly breaker: CircuitBreaker
  /** Mirrors circuitBreakerConfig.enabled: with it, transient failures never end the query. */
  readonly breakerEnabled: boolean
  readonly recordPath: RecordPathOptions
  /**
   * The record metadata a query can use: the source's kind and the field names its steps, watermark
   * and keys refer to; with the target table's columns they decide which metadata fields are added.
   */
  readonly metadata?: { readonly source: SourceKind; readonly referenced: readonly string[] }
  /**
   * The aggregate step (the last transform step), applied to a batch's on-time rows before the
   * write; the table writer merges the partial aggregates into the table (aggregate.ts).
   */
  readonly aggregate?: AggregateSpec
  /**
   * The aggregate step in append mode (instead of `aggregate`): partial windows live in the store's
   * window state until the watermark closes them, then each window's row is written once.
   */
  readonly windowAppend?: WindowAppendOptions
  /** The deduplicate step (the last transform step; not with an aggregate): duplicates are filtered. */
  readonly deduplicate?: DeduplicateOptions
  readonly lateStrategy: LateStrategy
  readonly failFast: boolean
  readonly events: EngineEvents
  readonly logger: Logger
  readonly now?: () => number
}

/** What one batch did. */
export interface BatchResult {
  readonly batchId: number
  readonly status: CommitResult['status']
  readonly recordsRead: number
  /** Source records written; with the aggregate step, those folded into aggregates that landed. */
  readonly written: number
  readonly dlq: number
  readonly late: number
  readonly filtered: number
  readonly nextWatermarkMs: number | null
  readonly durationMs: number
}

/** Runs batches for one query. */
export class BatchRunner<Tx = unknown> {
  readonly #o: BatchRunnerOptions<Tx>
  #metadata: MetadataAdder | null

  /**
   * Adds only the metadata fields that the steps refer to or the target table has (null columns:
   * unknown, all of them); decided once per query, at start.
   */
  useTargetColumns(columns: readonly string[] | null): void {
    const m = this.#o.metadata ?? { source: 'kafka', referenced: [] }
    this.#metadata = metadataFor(m.source, m.referenced, columns, this.#o.recordPath.envelope)
  }

  constructor(options: BatchRunnerOptions<Tx>) {
    this.#o = options
    this.#metadata = metadataFor(options.metadata?.source ?? 'kafka', [], null, options.recordPath.envelope)
    this.#sourceCommits = new PostCommitQueue((position) => options.source.committed?.(position) ?? Promise.resolve(), options.logger)
  }

  /** The source's post-commit hook, off the batch path and spaced out (post-commit.ts). */
  readonly #sourceCommits: PostCommitQueue
  /** Whether rows left unparsed stayed so in the last batches (flat-row.ts). */
  readonly #flatUse = new FlatUse()

  /** Several workers share the pipeline (the source's partitions are owned): the store numbers the batches. */
  #shared = false

  /** Set at start when the source shares its partitions with other workers (source.ownership). */
  shareWithWorkers(shared: boolean): void {
    this.#shared = shared
  }

  /**
   * The per-partition watermark rule when it applies (configured, or by default when workers share
   * the pipeline: their partitions' event times meet only in the store).
   */
  partitionWatermark(): PartitionWatermarkRule | undefined {
    const wm = this.#o.recordPath.watermark
    if (wm === null || !(wm.perPartition ?? this.#shared)) return undefined
    return { delayMs: wm.delayMs, idleMs: wm.idleMs ?? DEFAULT_IDLE_TIMEOUT_MS }
  }

  /**
   * The watermark a batch read ahead of its turn applies: the next one as this worker computes it
   * (Spark's rule, one worker: the store saves exactly that), or, when the store computes it, the
   * one this batch applied (the store's may only be higher: the read-ahead is then a little
   * conservative, never late-marking a record the store's watermark would admit).
   */
  readAheadWatermark(planned: PlannedBatch, processed: ProcessedBatch): number | null {
    return this.partitionWatermark() === undefined ? processed.nextWatermarkMs : planned.watermarkMs
  }

  /** True when a read-ahead may apply an older watermark than the one committed since (workers share the pipeline). */
  get watermarkMayLag(): boolean {
    return this.#shared
  }

  /** Resolves when the circuit lets a batch through (immediately when closed). */
  async waitForCircuit(signal: AbortSignal): Promise<void> {
    await this.#o.breaker.waitUntilAllowed(signal)
  }

  /**
   * Runs `fn` with the retry policy and the circuit breaker. With the breaker enabled a
   * transient failure never ends the query: after the retries the circuit paces further trials.
   */
  async withRetry<T>(batchId: number | null, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const { breaker, events, pipelineId, logger } = this.#o
    // batchId null: connecting at start-up, before any batch (logged, not reported as a batch event).
    const what = batchId === null ? 'start-up' : `batch ${batchId}`
    for (;;) {
      try {
        return await retry(
          async (attempt) => {
            await breaker.waitUntilAllowed(signal)
            if (signal.aborted) throw new SluiceError('SHUTDOWN', `${what} cancelled by shutdown`)
            try {
              // Connecting at start-up has nothing to commit: a shutdown need not wait for the attempt.
              const value = batchId === null ? await untilAborted(fn(), signal, what) : await fn()
              breaker.recordSuccess()
              return value
            } catch (err) {
              const error = toSluiceError(err)
              if (error.retryable) breaker.recordFailure(error)
              if (batchId !== null) events.emit('batch.failed', { pipelineId, batchId, attempt, code: error.code, retryable: error.retryable, message: error.message })
              throw error
            }
          },
          {
            config: this.#o.retry,
            signal,
            onRetry: (attempt, delayMs, error) => {
              if (batchId === null) {
                logger.warn({ attempt, delayMs, code: error.code, err: error.message }, 'cannot connect yet, retrying')
                return
              }
              logger.warn({ batchId, attempt, delayMs, code: error.code, err: error.message }, 'transient failure, retrying the same batch')
              events.emit('batch.retry', { pipelineId, batchId, attempt, delayMs, code: error.code })
            },
          },
        )
      } catch (err) {
        if (isSluiceError(err, 'RETRIES_EXHAUSTED') && this.#o.breakerEnabled && !signal.aborted) {
          logger.error({ batchId, err: err.message }, 'retries exhausted; the circuit breaker paces further attempts')
          continue
        }
        // Stopped while waiting to retry a transient failure: a shutdown, not a failure of the query.
        const error = toSluiceError(err)
        if (signal.aborted && error.retryable) throw new SluiceError('SHUTDOWN', `${what} stopped by shutdown while retrying: ${error.message}`, { cause: error })
        throw err
      }
    }
  }

  /** Runs one planned batch to its commit (or to a duplicate skip). */
  async run(planned: PlannedBatch, signal: AbortSignal): Promise<BatchResult> {
    const started = (this.#o.now ?? Date.now)()
    return this.write(planned, await this.read(planned, signal), signal, started)
  }

  /** Reads and routes the planned range, retrying transient failures as the same batch. */
  async read(planned: PlannedBatch, signal: AbortSignal): Promise<ProcessedBatch> {
    return this.withRetry(planned.batchId, () => this.#read(planned, signal), signal)
  }

  /**
   * One read attempt with no retry and no circuit-breaker accounting: the query's read-ahead of
   * the next batch, whose failure only means that batch is read again the ordinary way.
   */
  readOnce(planned: PlannedBatch, signal: AbortSignal): Promise<ProcessedBatch> {
    return this.#read(planned, signal)
  }

  /** Writes a batch already read (rows, dead letters, tracker row, position: one transaction); `started` dates its duration. */
  async write(planned: PlannedBatch, processed: ProcessedBatch, signal: AbortSignal, started: number): Promise<BatchResult> {
    const o = this.#o
    const now = o.now ?? Date.now
    // Set here, not when reading: with read-ahead the next batch is read while this one is written.
    setFailpointBatch(planned.batchId)
    const log = o.logger.child({ batchId: planned.batchId })
    // The aggregate step turns the on-time rows into one partial row per group; a refused
    // aggregate row dead-letters every source record folded into it, not only its representative.
    const dedup = o.deduplicate === undefined ? null : deduplicateRows(processed.rows, o.deduplicate, o.pipelineId, planned, now())
    // A sliding record's windows that the applied watermark may have closed are left out (update mode).
    const openAfter = o.recordPath.watermark?.lateness?.kind === 'window' ? planned.watermarkMs : null
    const agg = o.aggregate === undefined ? null : aggregateRows(processed.rows, o.aggregate, openAfter)
    const windowed = o.windowAppend === undefined ? null : claimWindows(processed.rows, o.windowAppend, o.pipelineId, planned, o.lateStrategy === 'sendtodlq' || o.lateStrategy === 'separatestream', now())
    const stepDead = agg?.dead ?? windowed?.dead ?? dedup?.repeatLetters ?? []
    const dead = stepDead.length === 0 ? processed.dead : [...processed.dead, ...stepDead]
    const rows = agg !== null ? agg.rows : windowed !== null ? [] : dedup !== null ? dedup.rows : processed.rows
    const membersOf = (row: Row): readonly SourceRecord[] => agg?.members.get(row) ?? [row.source]
    if (o.failFast && dead.length > 0) {
      const first = dead[0] as DeadLetter
      throw failFastError(first, planned.batchId)
    }
    const routedLate = o.lateStrategy === 'sendtodlq' || o.lateStrategy === 'separatestream' ? processed.late : []
    if (o.lateStrategy === 'loganddrop') {
      for (const l of processed.late) log.warn({ topic: l.record.topic, partition: l.record.partitionNumber, offset: l.record.offset, reason: l.reason }, 'late record dropped')
    }
    const onRejected = (rejected: readonly RejectedRow[]): readonly DeadLetter[] => {
      if (o.failFast && rejected[0]) {
        const r = rejected[0]
        throw failFastError({ record: r.row.source, code: r.error.code, reason: r.error.message }, planned.batchId)
      }
      return rejected.flatMap((r) => membersOf(r.row).map((record) => ({ record, code: r.error.code, reason: r.error.message })))
    }
    const rule = this.partitionWatermark()
    const mark: BatchMark = {
      pipelineId: o.pipelineId,
      batchId: planned.batchId,
      exactlyOnce: o.exactlyOnce,
      recordCount: processed.recordsRead,
      start: planned.start,
      end: planned.end,
      nextWatermarkMs: processed.nextWatermarkMs,
      eventTimes: processed.eventTimes,
      checkpointLocation: o.checkpointLocation,
      ...(this.#shared ? { shared: true } : {}),
      ...(rule === undefined ? {} : { partitionWatermark: rule }),
    }
    const table = { rows, deletes: processed.deletes, deleteTopics: processed.deleteTopics, ...(o.aggregate === undefined ? {} : { merge: mergeRules(o.aggregate) }) }
    const claims = { ...(dedup === null ? {} : { dedup: dedup.claim }), ...(windowed === null ? {} : { windows: windowed.claim }) }
    const write = await this.withRetry(planned.batchId, () => commitBatch(o.commit, { mark, table, dead, late: routedLate, onRejected, ...claims }), signal)
    const durationMs = now() - started
    // Late records the window state found (a window closed by another commit since the read).
    if (o.lateStrategy === 'loganddrop') for (const l of write.windows?.late ?? []) log.warn({ topic: l.record.topic, partition: l.record.partitionNumber, offset: l.record.offset, reason: l.reason }, 'late record dropped')
    const rejectedByCode: Record<string, number> = {}
    let rejectedRecords = 0
    for (const r of write.rejected) {
      const n = membersOf(r.row).length
      rejectedRecords += n
      rejectedByCode[r.error.code] = (rejectedByCode[r.error.code] ?? 0) + n
    }
    if (o.deduplicate?.toDlq === true && write.duplicateRows > 0) rejectedByCode.RECORD_DUPLICATE = (rejectedByCode.RECORD_DUPLICATE ?? 0) + write.duplicateRows
    const written = write.status === 'duplicate' ? 0 : agg !== null ? aggregatedRecords(agg.rows, write.rejected, membersOf) : windowed !== null ? (write.windows?.counted ?? 0) : write.written
    const result: BatchResult = {
      batchId: write.batchId,
      status: write.status,
      recordsRead: processed.recordsRead,
      written,
      // A closed window the table refused is a dead letter of its own (its records counted when folded).
      // Duplicates the store remembered are dead letters (RECORD_DUPLICATE) when the step says so.
      dlq: dead.length + rejectedRecords + (write.windows?.refused ?? 0) + (o.deduplicate?.toDlq === true ? write.duplicateRows : 0),
      late: processed.late.length + (write.windows?.late.length ?? 0),
      // Duplicates (the deduplicate step) are filtered: repeats within the batch and keys the store remembered.
      filtered: processed.filtered + (dedup === null || o.deduplicate?.toDlq === true ? 0 : dedup.repeats + write.duplicateRows),
      // The store's word: the larger of ours and the stored one, or its per-partition minimum.
      nextWatermarkMs: write.watermarkMs === undefined ? processed.nextWatermarkMs : write.watermarkMs,
      durationMs,
    }
    reportBatch({ pipelineId: this.#o.pipelineId, events: this.#o.events, logger: this.#o.logger }, planned, processed, write, { dead, rejectedByCode }, result, now())
    return result
  }

  /**
   * After the commit: the source's post-commit hook (consumer-group offsets for lag tools, file
   * cleanup) runs off the batch path, and the outbox relay. Failures are logged only, except a relay
   * failure that retrying cannot fix.
   */
  async afterCommit(position: Position): Promise<void> {
    const o = this.#o
    this.#sourceCommits.push(position)
    try {
      await o.commit.deadLetters.afterCommit?.(new AbortController().signal)
    } catch (err) {
      const e = toSluiceError(err)
      // A refused login or certificate would fail after every batch while dead letters pile up: stop.
      if (!e.retryable) throw e
      o.logger.warn({ err: e.message }, 'dead-letter relay failed; it is retried after the next batch')
    }
  }

  /** Waits for the source's post-commit hooks still running (the query's end). */
  async settle(): Promise<void> {
    await this.#sourceCommits.settle()
  }

  async #read(planned: PlannedBatch, signal: AbortSignal): Promise<ProcessedBatch> {
    // The stateful steps read every row's values; a plain load may leave them unparsed (flat-row.ts).
    const stateful = this.#o.aggregate !== undefined || this.#o.deduplicate !== undefined || this.#o.windowAppend !== undefined
    const path = new RecordPath({ ...this.#o.recordPath, metadata: this.#metadata, ...(stateful ? {} : { lazyValues: this.#flatUse }) }, planned.watermarkMs)
    let chunks = 0
    for await (const chunk of this.#o.source.read(planned.start, planned.end, signal)) {
      path.add(chunk)
      if (++chunks === 1) await failpoint('mid-fetch', planned.batchId)
    }
    return path.finish()
  }
}

/**
 * Source records that landed through the aggregate's rows: every record folded into a row the
 * table took, each once (a sliding window's record is in several rows).
 */
function aggregatedRecords(rows: readonly Row[], rejected: readonly RejectedRow[], membersOf: (row: Row) => readonly SourceRecord[]): number {
  const refused = new Set(rejected.map((r) => r.row))
  const landed = new Set<SourceRecord>()
  for (const row of rows) if (!refused.has(row)) for (const m of membersOf(row)) landed.add(m)
  return landed.size
}

function failFastError(letter: DeadLetter, batchId: number): SluiceError {
  const r = letter.record
  return new SluiceError(
    'FAIL_FAST',
    `failFast: bad record at ${r.topic} partition ${r.partitionNumber} offset ${r.offset} (${letter.code}: ${letter.reason}); batch ${batchId} not committed`,
    { details: { code: letter.code, topic: r.topic, partition: r.partitionNumber, offset: r.offset, batchId } },
  )
}

/** `promise`, or a SHUTDOWN error as soon as `signal` aborts (the abandoned attempt is left to fail quietly). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(new SluiceError('SHUTDOWN', `${what} cancelled by shutdown`))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new SluiceError('SHUTDOWN', `${what} cancelled by shutdown`))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
