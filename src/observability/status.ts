/**
 * The /status document: what each running query is doing, rebuilt from engine events only. It is a
 * view for humans and scripts; the database stays the authority (`sluice status` reads it directly).
 */
import type { Position } from '../api/position.ts'
import type { BatchProgress, CircuitState, EngineEventMap, EngineEventName, EngineEvents, QueryState, RecordDestination } from '../engine/events.ts'
import { redactText } from '../secrets.ts'

export interface PartitionStatus {
  /** Committed position (next offset to read), or null before the first commit. */
  position: string | null
  /** Records behind the latest source position, or null when unknown. */
  lag: number | null
  /** The source's latest position when lag was last measured, or null when unknown. */
  latest: string | null
}

/** Records committed per time bucket over the last minutes, oldest first (the status page's chart). */
export interface Throughput {
  bucketSeconds: number
  /** Every bucket of the window, zeros included; `start` is the bucket's start, ISO-8601. */
  buckets: { start: string; records: number }[]
}

/** Totals since this process started the query. */
export interface QueryTotals {
  records: number
  destinations: Partial<Record<RecordDestination, number>>
  /** Dead letters by error code. */
  dlqByCode: Record<string, number>
}

/** The throughput window: THROUGHPUT_BUCKETS buckets of THROUGHPUT_BUCKET_SECONDS each (5 minutes). */
export const THROUGHPUT_BUCKET_SECONDS = 10
export const THROUGHPUT_BUCKETS = 30

export interface QueryStatus {
  id: string
  name: string
  state: QueryState
  stateSince: string
  circuit: CircuitState
  currentBatch: { id: number; replay: boolean; startedAt: string; attempt: number; start: Position; end: Position } | null
  lastBatch: {
    id: number
    records: number
    destinations: Partial<Record<RecordDestination, number>>
    committedAt: string
    durationMs: number
  } | null
  batchesCommitted: number
  duplicatesSkipped: number
  /** The last committed batch in Spark's StreamingQueryProgress terms (offsets, backlog, rates). */
  lastProgress: BatchProgress | null
  totals: QueryTotals
  throughput: Throughput
  /** Watermark applied to the next batch (epoch ms and ISO), or null without a watermark. */
  watermarkMs: number | null
  watermark: string | null
  partitions: Record<string, PartitionStatus>
  lastError: { code: string; message: string; at: string; batchId: number | null } | null
  /**
   * The Kafka outbox (pipelines with a Kafka DLQ or late-data topic; null otherwise or before the
   * relay's first attempt): records waiting per topic, since when publishing fails, and why.
   */
  outbox: { pending: number; topics: Record<string, number>; failingSince: string | null; lastError: string | null } | null
  /**
   * This worker (host:pid) and the partitions it owns when several workers share the pipeline
   * (null: it reads every partition); `generation` counts the assignments it has had.
   */
  worker: { id: string; owned: string[] | null; generation: number } | null
}

export interface StatusSnapshot {
  generatedAt: string
  queries: QueryStatus[]
}

type AnyEvent = { [K in EngineEventName]: { name: K; payload: EngineEventMap[K] } }[EngineEventName]

/** Keeps the latest status of every query, fed by engine events. */
export class QueryStatusBoard {
  readonly #queries = new Map<string, QueryStatus>()
  /** Records committed per bucket (bucket start, epoch ms), per query; pruned to the window. */
  readonly #buckets = new Map<string, Map<number, number>>()
  readonly #now: () => number

  /** Subscribes to `events` when given (or call attach later). */
  constructor(events?: EngineEvents, now: () => number = Date.now) {
    this.#now = now
    if (events) this.attach(events)
  }

  /** Subscribes to engine events; returns a function that unsubscribes. */
  attach(events: EngineEvents): () => void {
    return events.on((name, payload) => this.#apply({ name, payload } as AnyEvent))
  }

  /** Declares a query (its display name) before it emits anything. */
  register(pipelineId: string, name: string): void {
    this.#query(pipelineId).name = name
  }

  /** A copy of one query's status (as in snapshot()), or undefined when unknown. */
  get(pipelineId: string): Readonly<QueryStatus> | undefined {
    const q = this.#queries.get(pipelineId)
    return q && this.#copy(q)
  }

  /** A JSON-safe copy of every query's status, in registration order. */
  snapshot(): StatusSnapshot {
    return {
      generatedAt: new Date(this.#now()).toISOString(),
      queries: [...this.#queries.values()].map((q) => this.#copy(q)),
    }
  }

  /** The stored status with its throughput window computed for now (it is kept as bucket counts). */
  #copy(q: QueryStatus): QueryStatus {
    return { ...structuredClone(q), throughput: this.#throughput(q.id) }
  }

  #throughput(id: string): Throughput {
    const size = THROUGHPUT_BUCKET_SECONDS * 1000
    const last = Math.floor(this.#now() / size) * size
    const counts = this.#buckets.get(id)
    const buckets: Throughput['buckets'] = []
    for (let start = last - (THROUGHPUT_BUCKETS - 1) * size; start <= last; start += size) {
      buckets.push({ start: new Date(start).toISOString(), records: counts?.get(start) ?? 0 })
    }
    return { bucketSeconds: THROUGHPUT_BUCKET_SECONDS, buckets }
  }

  #count(id: string, atMs: number, records: number): void {
    const size = THROUGHPUT_BUCKET_SECONDS * 1000
    let counts = this.#buckets.get(id)
    if (!counts) this.#buckets.set(id, (counts = new Map()))
    const bucket = Math.floor(atMs / size) * size
    counts.set(bucket, (counts.get(bucket) ?? 0) + records)
    const oldest = Math.floor(this.#now() / size) * size - (THROUGHPUT_BUCKETS - 1) * size
    for (const start of counts.keys()) if (start < oldest) counts.delete(start)
  }

  #iso(): string {
    return new Date(this.#now()).toISOString()
  }

  #query(id: string): QueryStatus {
    let q = this.#queries.get(id)
    if (!q) {
      q = {
        id,
        name: id,
        state: 'starting',
        stateSince: this.#iso(),
        circuit: 'closed',
        currentBatch: null,
        lastBatch: null,
        batchesCommitted: 0,
        duplicatesSkipped: 0,
        lastProgress: null,
        totals: { records: 0, destinations: {}, dlqByCode: {} },
        // Filled by #copy from #buckets: the window moves with time, not only with events.
        throughput: { bucketSeconds: THROUGHPUT_BUCKET_SECONDS, buckets: [] },
        watermarkMs: null,
        watermark: null,
        partitions: {},
        lastError: null,
        outbox: null,
        worker: null,
      }
      this.#queries.set(id, q)
    }
    return q
  }

  #partition(q: QueryStatus, key: string): PartitionStatus {
    return (q.partitions[key] ??= { position: null, lag: null, latest: null })
  }

  #apply(ev: AnyEvent): void {
    const q = this.#query(ev.payload.pipelineId)
    switch (ev.name) {
      case 'query.state': {
        if (q.state !== ev.payload.state) q.stateSince = this.#iso()
        q.state = ev.payload.state
        const err = ev.payload.error
        if (err) q.lastError = { code: err.code, message: redactText(err.message), at: this.#iso(), batchId: q.currentBatch?.id ?? null }
        if (ev.payload.state === 'stopped' || ev.payload.state === 'failed') q.currentBatch = null
        break
      }
      case 'batch.planned': {
        const { batchId, replay, start, end } = ev.payload
        q.currentBatch = { id: batchId, replay, startedAt: this.#iso(), attempt: 1, start: { ...start }, end: { ...end } }
        break
      }
      case 'batch.committed': {
        const e = ev.payload
        q.lastBatch = {
          id: e.batchId,
          records: e.recordsRead,
          destinations: { ...e.destinations },
          committedAt: new Date(e.committedAt).toISOString(),
          durationMs: e.durationMs,
        }
        q.batchesCommitted++
        q.lastProgress = structuredClone(e.progress)
        q.totals.records += e.recordsRead
        for (const [d, n] of Object.entries(e.destinations) as [RecordDestination, number][]) q.totals.destinations[d] = (q.totals.destinations[d] ?? 0) + n
        for (const [code, n] of Object.entries(e.dlqByCode)) q.totals.dlqByCode[code] = (q.totals.dlqByCode[code] ?? 0) + n
        this.#count(q.id, e.committedAt, e.recordsRead)
        q.currentBatch = null
        q.watermarkMs = e.watermarkMs
        q.watermark = e.watermarkMs === null ? null : new Date(e.watermarkMs).toISOString()
        for (const [key, position] of Object.entries(e.position)) this.#partition(q, key).position = position
        break
      }
      case 'batch.duplicate':
        q.duplicatesSkipped++
        if (q.currentBatch?.id === ev.payload.batchId) q.currentBatch = null
        break
      case 'batch.failed': {
        const e = ev.payload
        q.lastError = { code: e.code, message: redactText(e.message), at: this.#iso(), batchId: e.batchId }
        break
      }
      case 'batch.retry':
        if (q.currentBatch?.id === ev.payload.batchId) q.currentBatch.attempt = ev.payload.attempt + 1
        break
      case 'circuit.state':
        q.circuit = ev.payload.state
        break
      case 'source.lag':
        for (const [key, lag] of Object.entries(ev.payload.lag)) this.#partition(q, key).lag = lag
        for (const [key, latest] of Object.entries(ev.payload.latest)) if (Object.hasOwn(q.partitions, key)) this.#partition(q, key).latest = latest
        break
      case 'tracker.size':
        break
      case 'partitions.owned':
        q.worker = { id: ev.payload.worker, owned: ev.payload.owned === null ? null : [...ev.payload.owned].sort(), generation: ev.payload.generation }
        break
      case 'outbox.pending': {
        const e = ev.payload
        q.outbox = {
          pending: e.rows,
          topics: { ...e.topics },
          failingSince: e.failingSinceMs === null ? null : new Date(e.failingSinceMs).toISOString(),
          lastError: e.lastError === null ? null : redactText(e.lastError),
        }
        break
      }
    }
  }
}
