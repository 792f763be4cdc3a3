/**
 * What a running query reports about itself. The engine emits these events and knows nothing
 * of Prometheus or logs: observability/ subscribes and turns them into metrics, log lines and
 * the /status document. Keeping one list here means every metric has exactly one trigger.
 */
import type { Position } from '../api/position.ts'

export type CircuitState = 'closed' | 'open' | 'half-open'
export type QueryState = 'starting' | 'running' | 'idle' | 'backoff' | 'stopping' | 'stopped' | 'failed'

/** Destinations a record can end in; the counts of one batch add up to the records read. */
export type RecordDestination = 'table' | 'dlq' | 'late' | 'dropped' | 'filtered'

export interface BatchCommittedEvent {
  readonly pipelineId: string
  readonly batchId: number
  readonly recordsRead: number
  /** Records per destination in this batch. */
  readonly destinations: Readonly<Partial<Record<RecordDestination, number>>>
  /** DLQ records by error code. */
  readonly dlqByCode: Readonly<Record<string, number>>
  readonly durationMs: number
  /** Epoch ms when the batch committed. */
  readonly committedAt: number
  /** Max record timestamp in the batch (epoch ms), for processing lag. */
  readonly maxRecordTimestampMs: number | null
  readonly position: Position
  readonly watermarkMs: number | null
  /** The batch in Spark's StreamingQueryProgress terms (batch-report.ts). */
  readonly progress: BatchProgress
}

/**
 * One source's part of a batch, with Spark's SourceProgress field names. Offsets are whole
 * positions (every partition), as in Spark; latestOffset and backlog are null when the source
 * cannot tell its latest position (the file source) or it was not measured yet.
 */
export interface SourceProgress {
  readonly startOffset: Position
  readonly endOffset: Position
  /** The source's latest position, as last measured by the lag probe (probes.ts). */
  readonly latestOffset: Position | null
  readonly numInputRows: number
  readonly inputRowsPerSecond: number | null
  readonly processedRowsPerSecond: number
  /** Records left between endOffset and latestOffset, per partition (Sluice's addition). */
  readonly backlog: Readonly<Record<string, number>> | null
}

/**
 * Spark's StreamingQueryProgress for one committed batch (the fields Sluice can fill).
 * durationMs is a number here (Spark's durationMs.triggerExecution): planning to commit.
 */
export interface BatchProgress {
  readonly batchId: number
  /** When the trigger fired for the batch, ISO-8601. */
  readonly timestamp: string
  readonly numInputRows: number
  /** Rows over the time since the previous batch's trigger; null for the first batch of a run. */
  readonly inputRowsPerSecond: number | null
  /** Rows over the batch's own duration. */
  readonly processedRowsPerSecond: number
  readonly durationMs: number
  /** Records left in the source after this batch (sum of sources[].backlog), or null when unknown. */
  readonly backlog: number | null
  readonly sources: readonly SourceProgress[]
}

/** The event catalogue: name -> payload. */
export interface EngineEventMap {
  'query.state': { pipelineId: string; state: QueryState; error?: { code: string; message: string } }
  'batch.planned': { pipelineId: string; batchId: number; replay: boolean; start: Position; end: Position }
  'batch.committed': BatchCommittedEvent
  /** The batch id was already in batch_tracker: skipped (etl_batch_duplicates_total). */
  'batch.duplicate': { pipelineId: string; batchId: number }
  'batch.failed': { pipelineId: string; batchId: number; attempt: number; code: string; retryable: boolean; message: string }
  'batch.retry': { pipelineId: string; batchId: number; attempt: number; delayMs: number; code: string }
  'circuit.state': { pipelineId: string; state: CircuitState }
  /** Per-partition lag against the source's latest position (`latest`, as measured). */
  'source.lag': { pipelineId: string; lag: Readonly<Record<string, number>>; latest: Position }
  /**
   * The partitions this worker owns (a consumer group's assignment, or assign), at start and after
   * every change; `owned` null: the worker reads every partition (no sharing).
   */
  'partitions.owned': { pipelineId: string; worker: string; owned: readonly string[] | null; generation: number }
  /** Tracker table size, refreshed now and then (etl_batch_tracker_records_total). */
  'tracker.size': { pipelineId: string; rows: number }
  /**
   * The Kafka outbox after a relay attempt (sluice_outbox_pending): rows waiting, since when
   * publishing has been failing (epoch ms, null while it works) and the last failure.
   */
  'outbox.pending': { pipelineId: string; rows: number; topics: Readonly<Record<string, number>>; failingSinceMs: number | null; lastError: string | null }
}

export type EngineEventName = keyof EngineEventMap
export type EngineListener = <K extends EngineEventName>(name: K, payload: EngineEventMap[K]) => void

/** A tiny typed fan-out; listeners must not throw (errors are swallowed so metrics never stop a batch). */
export class EngineEvents {
  #listeners: EngineListener[] = []

  /** Adds a listener; returns a function removing it. */
  on(listener: EngineListener): () => void {
    this.#listeners.push(listener)
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener)
    }
  }

  /** Delivers an event to every listener. */
  emit<K extends EngineEventName>(name: K, payload: EngineEventMap[K]): void {
    for (const listener of this.#listeners) {
      try {
        listener(name, payload)
      } catch {
        // A broken listener must not break the pipeline.
      }
    }
  }
}
