/**
 * The /status document: what each running query is doing, rebuilt from engine events only. It is a
 * view for humans and scripts; the database stays the authority (`sluice status` reads it directly).
 */
import type { Position } from '../api/position.ts'
import type { CircuitState, EngineEventMap, EngineEventName, EngineEvents, QueryState, RecordDestination } from '../engine/events.ts'
import { redactText } from '../secrets.ts'

export interface PartitionStatus {
  /** Committed position (next offset to read), or null before the first commit. */
  position: string | null
  /** Records behind the latest source position, or null when unknown. */
  lag: number | null
}

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
}

export interface StatusSnapshot {
  generatedAt: string
  queries: QueryStatus[]
}

type AnyEvent = { [K in EngineEventName]: { name: K; payload: EngineEventMap[K] } }[EngineEventName]

/** Keeps the latest status of every query, fed by engine events. */
export class QueryStatusBoard {
  readonly #queries = new Map<string, QueryStatus>()
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

  /** Status of one query, or undefined when unknown. */
  get(pipelineId: string): Readonly<QueryStatus> | undefined {
    return this.#queries.get(pipelineId)
  }

  /** A JSON-safe copy of every query's status, in registration order. */
  snapshot(): StatusSnapshot {
    return {
      generatedAt: new Date(this.#now()).toISOString(),
      queries: [...this.#queries.values()].map((q) => structuredClone(q)),
    }
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
        watermarkMs: null,
        watermark: null,
        partitions: {},
        lastError: null,
        outbox: null,
      }
      this.#queries.set(id, q)
    }
    return q
  }

  #partition(q: QueryStatus, key: string): PartitionStatus {
    return (q.partitions[key] ??= { position: null, lag: null })
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
        break
      case 'tracker.size':
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
