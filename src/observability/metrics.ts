/**
 * Prometheus metrics. The seed's `etl_batch_*` names are kept for dashboards and alerts written
 * against the original design; `sluice_*` metrics add what an operator needs. Every metric is driven
 * by exactly one kind of engine event (see attachMetrics), so the engine never touches prom-client.
 *
 * Definitions worth knowing:
 * - etl_batch_processing_lag_seconds = commit time - newest record timestamp of the last committed
 *   batch: how stale the freshest data was when it landed (0 when clocks are skewed the other way).
 * - etl_batch_rate_per_minute = batches committed in the 60 s before the scrape (computed at scrape).
 * - etl_batch_tracker_records_total is a table size, so it can go down (cleanup). It is exported as
 *   `untyped`: the seed's name ends in `_total`, which promtool accepts only on counters and untyped
 *   metrics. prom-client's three `nodejs_active_*_total` gauges are re-typed the same way.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricType } from 'prom-client'
import type {
  BatchCommittedEvent,
  CircuitState,
  EngineEventMap,
  EngineEventName,
  EngineEvents,
  QueryState,
} from '../engine/events.ts'

/** One engine event as a discriminated union, so a switch on `name` narrows `payload`. */
export type AnyEngineEvent = { [K in EngineEventName]: { name: K; payload: EngineEventMap[K] } }[EngineEventName]

type PipelineLabel = 'pipeline_id'

export interface SluiceMetrics {
  readonly registry: Registry
  readonly batchProcessingLag: Gauge<PipelineLabel>
  readonly batchLastId: Gauge<PipelineLabel>
  readonly batchLastProcessedTimestamp: Gauge<PipelineLabel>
  readonly batchRatePerMinute: Gauge<PipelineLabel>
  readonly batchDuplicates: Counter<PipelineLabel>
  readonly trackerRecords: Gauge<PipelineLabel>
  readonly records: Counter<'pipeline_id' | 'destination' | 'reason'>
  readonly batchDuration: Histogram<PipelineLabel>
  readonly consumerLag: Gauge<'pipeline_id' | 'partition'>
  readonly circuitState: Gauge<PipelineLabel>
  readonly batchRetries: Counter<'pipeline_id' | 'code'>
  readonly batchFailures: Counter<'pipeline_id' | 'code'>
  readonly queryUp: Gauge<PipelineLabel>
  readonly outboxPending: Gauge<PipelineLabel>
  /** Remembers a commit for etl_batch_rate_per_minute. */
  noteCommit(pipelineId: string, atMs: number): void
  /** Starts reporting etl_batch_rate_per_minute (as 0) for a pipeline before its first commit. */
  trackPipeline(pipelineId: string): void
}

export interface MetricsOptions {
  /** Clock for the per-minute rate window (tests). */
  now?: () => number
  /** Register prom-client's process metrics (default true). */
  defaultMetrics?: boolean
  /** The `worker` label on every metric (several workers of one pipeline scrape apart). */
  worker?: string
}

/** Seconds buckets for batch duration: 10 ms to 5 min. */
export const BATCH_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

/** Circuit state as a number: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 }

/** Query states counted as "up" (the query exists and has not stopped or failed). */
const UP_STATES: ReadonlySet<QueryState> = new Set(['starting', 'running', 'idle', 'backoff', 'stopping'])

/** Makes a gauge print `# TYPE name untyped` (see the module comment on `_total` names). */
function exposeAsUntyped(metric: Gauge<string>): void {
  const get = metric.get.bind(metric)
  metric.get = async () => ({ ...(await get()), type: 'untyped' as unknown as MetricType })
}

/** Creates every Sluice metric in `registry` (a fresh one by default), with the process defaults. */
export function createMetrics(registry: Registry = new Registry(), options: MetricsOptions = {}): SluiceMetrics {
  const now = options.now ?? Date.now
  const registers = [registry]
  if (options.worker !== undefined) registry.setDefaultLabels({ worker: options.worker })
  if (options.defaultMetrics !== false && registry.getSingleMetric('process_cpu_seconds_total') === undefined) {
    collectDefaultMetrics({ register: registry })
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      const metric = registry.getSingleMetric(name)
      if (metric instanceof Gauge) exposeAsUntyped(metric)
    }
  }
  const commits = new Map<string, number[]>()
  const pipeline = ['pipeline_id'] as const

  const batchRatePerMinute = new Gauge({
    name: 'etl_batch_rate_per_minute',
    help: 'Batches committed in the last 60 seconds.',
    labelNames: pipeline,
    registers,
    collect() {
      const since = now() - 60_000
      for (const [id, times] of commits) {
        const recent = times.filter((t) => t > since)
        commits.set(id, recent)
        this.set({ pipeline_id: id }, recent.length)
      }
    },
  })
  const trackerRecords = new Gauge({
    name: 'etl_batch_tracker_records_total',
    help: 'Rows of this pipeline in the batch_tracker table (shrinks after cleanup).',
    labelNames: pipeline,
    registers,
  })
  exposeAsUntyped(trackerRecords)

  return {
    registry,
    batchProcessingLag: new Gauge({
      name: 'etl_batch_processing_lag_seconds',
      help: 'Commit time minus the newest record timestamp of the last committed batch.',
      labelNames: pipeline,
      registers,
    }),
    batchLastId: new Gauge({ name: 'etl_batch_last_id', help: 'Id of the last committed batch.', labelNames: pipeline, registers }),
    batchLastProcessedTimestamp: new Gauge({
      name: 'etl_batch_last_processed_timestamp_seconds',
      help: 'Unix time at which the last batch committed.',
      labelNames: pipeline,
      registers,
    }),
    batchRatePerMinute,
    batchDuplicates: new Counter({
      name: 'etl_batch_duplicates_total',
      help: 'Batches found already committed in batch_tracker and skipped (replays after recovery).',
      labelNames: pipeline,
      registers,
    }),
    trackerRecords,
    records: new Counter({
      name: 'sluice_records_total',
      help: 'Source records by destination (read, table, dlq, late, dropped, filtered); reason is the error code for dlq.',
      labelNames: ['pipeline_id', 'destination', 'reason'] as const,
      registers,
    }),
    batchDuration: new Histogram({
      name: 'sluice_batch_duration_seconds',
      help: 'Time from planning a batch to its commit, retries included.',
      labelNames: pipeline,
      buckets: BATCH_DURATION_BUCKETS,
      registers,
    }),
    consumerLag: new Gauge({
      name: 'sluice_consumer_lag',
      help: 'Records between the committed position and the latest source position, per topic-partition.',
      labelNames: ['pipeline_id', 'partition'] as const,
      registers,
    }),
    circuitState: new Gauge({
      name: 'sluice_circuit_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      labelNames: pipeline,
      registers,
    }),
    batchRetries: new Counter({
      name: 'sluice_batch_retries_total',
      help: 'Batch attempts retried after a transient failure, by error code.',
      labelNames: ['pipeline_id', 'code'] as const,
      registers,
    }),
    batchFailures: new Counter({
      name: 'sluice_batch_failures_total',
      help: 'Failed batch attempts (retried or not), by error code.',
      labelNames: ['pipeline_id', 'code'] as const,
      registers,
    }),
    queryUp: new Gauge({
      name: 'sluice_query_up',
      help: '1 while the query runs (starting, running, idle, backoff, stopping), 0 once stopped or failed.',
      labelNames: pipeline,
      registers,
    }),
    outboxPending: new Gauge({
      name: 'sluice_outbox_pending',
      help: 'Dead letters and late records committed to the Kafka outbox and not yet published to their topic (after the last relay attempt).',
      labelNames: pipeline,
      registers,
    }),
    trackPipeline(pipelineId) {
      if (!commits.has(pipelineId)) commits.set(pipelineId, [])
    },
    noteCommit(pipelineId, atMs) {
      const times = commits.get(pipelineId) ?? []
      times.push(atMs)
      // Bounded: older entries are pruned at scrape; cap in case nobody scrapes.
      commits.set(pipelineId, times.length > 10_000 ? times.slice(-5_000) : times)
    },
  }
}

/** Subscribes `metrics` to the engine events; returns a function that unsubscribes. */
export function attachMetrics(events: EngineEvents, metrics: SluiceMetrics): () => void {
  const seen = new Set<string>()
  /** Zero-valued series from the start, so that rate() and alerts work before the first event. */
  const init = (id: string): void => {
    if (seen.has(id)) return
    seen.add(id)
    const p = { pipeline_id: id }
    metrics.batchDuplicates.inc(p, 0)
    metrics.records.inc({ ...p, destination: 'read', reason: '' }, 0)
    metrics.circuitState.set(p, 0)
    metrics.trackPipeline(id)
  }
  return events.on((name, payload) => {
    init(payload.pipelineId)
    handle(metrics, { name, payload } as AnyEngineEvent)
  })
}

/** Applies one event to the metrics. */
function handle(metrics: SluiceMetrics, ev: AnyEngineEvent): void {
  const p = { pipeline_id: ev.payload.pipelineId }
  switch (ev.name) {
    case 'batch.committed':
      onCommitted(metrics, p, ev.payload)
      break
    case 'batch.duplicate':
      metrics.batchDuplicates.inc(p)
      break
    case 'batch.failed':
      metrics.batchFailures.inc({ ...p, code: ev.payload.code })
      break
    case 'batch.retry':
      metrics.batchRetries.inc({ ...p, code: ev.payload.code })
      break
    case 'circuit.state':
      metrics.circuitState.set(p, CIRCUIT_STATE_VALUE[ev.payload.state])
      break
    case 'source.lag':
      for (const [partition, lag] of Object.entries(ev.payload.lag)) metrics.consumerLag.set({ ...p, partition }, lag)
      break
    case 'tracker.size':
      metrics.trackerRecords.set(p, ev.payload.rows)
      break
    case 'query.state':
      metrics.queryUp.set(p, UP_STATES.has(ev.payload.state) ? 1 : 0)
      break
    case 'outbox.pending':
      metrics.outboxPending.set(p, ev.payload.rows)
      break
    case 'batch.planned':
      break
  }
}

/** Updates the per-commit metrics. */
function onCommitted(metrics: SluiceMetrics, p: { pipeline_id: string }, e: BatchCommittedEvent): void {
  metrics.batchLastId.set(p, e.batchId)
  metrics.batchLastProcessedTimestamp.set(p, e.committedAt / 1000)
  if (e.maxRecordTimestampMs !== null) {
    metrics.batchProcessingLag.set(p, Math.max(0, (e.committedAt - e.maxRecordTimestampMs) / 1000))
  }
  metrics.batchDuration.observe(p, e.durationMs / 1000)
  metrics.noteCommit(p.pipeline_id, e.committedAt)
  metrics.records.inc({ ...p, destination: 'read', reason: '' }, e.recordsRead)
  let dlqByCode = 0
  for (const [code, n] of Object.entries(e.dlqByCode)) {
    if (n > 0) metrics.records.inc({ ...p, destination: 'dlq', reason: code }, n)
    dlqByCode += n
  }
  for (const [destination, n] of Object.entries(e.destinations)) {
    if (destination === 'dlq') {
      // Keep the counter equal to the destination total even if the engine omitted a code.
      if (n > dlqByCode) metrics.records.inc({ ...p, destination, reason: 'UNKNOWN' }, n - dlqByCode)
    } else if (n > 0) {
      metrics.records.inc({ ...p, destination, reason: '' }, n)
    }
  }
}
