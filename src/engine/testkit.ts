/**
 * In-memory Source and Sink for the engine's unit tests (the loop, recovery, retries). They follow
 * the contracts of src/api; the end-to-end guarantees are proven against a real Kafka and a real
 * PostgreSQL in test/e2e, never with these.
 */
import type { Position } from '../api/position.ts'
import type { SourceRecord } from '../api/record.ts'
import type { CommittedState, RejectHandler, Sink, SinkBatch, WriteResult } from '../api/sink.ts'
import type { ReadLimits, Source } from '../api/source.ts'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nullLogger } from '../api/component.ts'
import { SluiceError } from '../errors.ts'
import { CircuitBreaker } from '../reliability/circuit-breaker.ts'
import { DeadLetterTables } from '../reliability/dlq.ts'
import type { AggregateSpec } from './aggregate.ts'
import { BatchRunner, type DeadLetterRouter } from './batch-runner.ts'
import { CheckpointLog } from './checkpoint.ts'
import { EngineEvents } from './events.ts'
import { Query } from './query.ts'
import { type TriggerMode, TriggerPolicy } from './trigger.ts'

/** A source over fixed arrays of JSON values, one array per partition `p/<n>`. */
export class MemorySource implements Source {
  readonly partitions: string[][]

  constructor(partitions: string[][]) {
    this.partitions = partitions
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async initialPosition(): Promise<Position> {
    return Object.fromEntries(this.partitions.map((_, i) => [`p/${i}`, '0']))
  }

  async latest(): Promise<Position> {
    return Object.fromEntries(this.partitions.map((p, i) => [`p/${i}`, String(p.length)]))
  }

  async plan(from: Position, limits: ReadLimits): Promise<Position | null> {
    let budget = limits.maxRecords ?? Number.POSITIVE_INFINITY
    const end: Record<string, string> = {}
    this.partitions.forEach((records, i) => {
      const key = `p/${i}`
      const start = Number(from[key] ?? 0)
      const take = Math.min(records.length - start, budget)
      if (take > 0) {
        end[key] = String(start + take)
        budget -= take
      }
    })
    return Object.keys(end).length > 0 ? end : null
  }

  async *read(from: Position, to: Position): AsyncIterable<SourceRecord[]> {
    for (const [key, endText] of Object.entries(to)) {
      const i = Number(key.slice(2))
      const records = this.partitions[i] ?? []
      const chunk: SourceRecord[] = []
      for (let o = Number(from[key] ?? 0); o < Number(endText); o++) {
        chunk.push({
          partition: key,
          topic: 'mem',
          partitionNumber: i,
          offset: String(o),
          key: null,
          value: Buffer.from(records[o] ?? 'null'),
          timestamp: 1_000 + o,
          headers: [],
        })
      }
      yield chunk
    }
  }
}

/** A sink that commits batches atomically in memory, with the tracker and position semantics. */
export class MemorySink implements Sink {
  readonly rows: Record<string, unknown>[] = []
  readonly side: Record<string, Record<string, unknown>[]> = {}
  readonly tracker = new Map<number, number>()
  position: Record<string, string> = {}
  watermarkMs: number | null = null
  /** Errors thrown by the next write attempts, in order. */
  failures: SluiceError[] = []
  /** When set, the next write commits and then reports a lost connection (its COMMIT reply was lost). */
  loseNextCommitReply = false
  attempts: number[] = []
  /** The merge rules of each committed batch (the aggregate step), in order. */
  merges: SinkBatch['merge'][] = []

  /** Errors thrown by the next open() calls, in order. */
  openFailures: SluiceError[] = []
  async open(): Promise<void> {
    const failure = this.openFailures.shift()
    if (failure) throw failure
  }
  async close(): Promise<void> {}
  async ping(): Promise<void> {}

  async committedState(): Promise<CommittedState | null> {
    if (this.tracker.size === 0) return null
    return { batchId: Math.max(...this.tracker.keys()), position: { ...this.position }, watermarkMs: this.watermarkMs }
  }

  async write(batch: SinkBatch, onReject?: RejectHandler): Promise<WriteResult> {
    this.attempts.push(batch.batchId)
    const failure = this.failures.shift()
    if (failure) throw failure
    if (batch.exactlyOnce && this.tracker.has(batch.batchId)) return { status: 'duplicate', written: 0, rejected: [] }
    for (const p of Object.keys(batch.end)) {
      const stored = this.position[p]
      if (stored !== undefined && stored !== batch.start[p]) throw new SluiceError('SINK_FENCED', `fenced on ${p}`)
    }
    const rejected = batch.rows.filter((r) => r.values.reject === true).map((row) => ({ row, error: new SluiceError('RECORD_COLUMN', 'rejected by the test sink') }))
    const side = rejected.length > 0 && onReject ? onReject(rejected) : []
    for (const s of [...batch.sideOutputs, ...side]) (this.side[s.table] ??= []).push(...s.rows)
    const good = batch.rows.filter((r) => r.values.reject !== true)
    this.rows.push(...good.map((r) => r.values))
    this.merges.push(batch.merge)
    if (batch.exactlyOnce) {
      this.tracker.set(batch.batchId, batch.recordCount ?? batch.rows.length)
      this.position = { ...this.position, ...batch.end }
      this.watermarkMs = batch.nextWatermarkMs
    }
    if (this.loseNextCommitReply) {
      this.loseNextCommitReply = false
      throw new SluiceError('SINK_UNAVAILABLE', 'connection lost while waiting for the COMMIT reply')
    }
    return { status: 'committed', written: good.length, rejected }
  }
}

/** A Query over a memory source and sink, wired like runtime/assemble.ts does (short retries, DLQ and late tables). */
export async function memoryQuery(source: MemorySource, sink: MemorySink, options: { trigger?: TriggerMode; maxRecords?: number; failFast?: boolean; dir?: string; watermarkDelayMs?: number; events?: EngineEvents; aggregate?: AggregateSpec; deadLetters?: DeadLetterRouter } = {}) {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'sluice-query-')))
  const events = options.events ?? new EngineEvents()
  const seen: string[] = []
  events.on((name, payload) => seen.push(`${name}${'batchId' in payload ? `:${payload.batchId}` : ''}`))
  const breaker = new CircuitBreaker({ enabled: true, failureThreshold: 100, resetTimeoutSeconds: 0.01 })
  const runner = new BatchRunner({
    pipelineId: 'p',
    source,
    sink,
    exactlyOnce: true,
    checkpointLocation: dir,
    retry: { strategy: 'fixed', maxAttempts: 3, initialDelaySeconds: 0.001, maxDelaySeconds: 0.001 },
    breaker,
    breakerEnabled: true,
    recordPath: { validator: null, transform: null, watermark: options.watermarkDelayMs === undefined ? null : { column: 'event_time', delayMs: options.watermarkDelayMs }, deleteKeys: null },
    deadLetters: options.deadLetters ?? new DeadLetterTables({ pipelineId: 'p', dlq: { kind: 'table', table: 'dlq' }, late: { kind: 'table', table: 'late' } }),
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
    lateStrategy: 'sendtodlq',
    failFast: options.failFast ?? false,
    events,
    logger: nullLogger,
  })
  const query = new Query({
    pipelineId: 'p',
    source,
    sink,
    checkpoint: new CheckpointLog(dir),
    trigger: new TriggerPolicy(options.trigger ?? { type: 'availablenow' }),
    limits: options.maxRecords ? { maxRecords: options.maxRecords } : {},
    exactlyOnce: true,
    runner,
    events,
    logger: nullLogger,
  })
  const never = new AbortController().signal
  return { query, dir, seen, run: () => query.run(never, never) }
}

