/**
 * What a finished batch reports: the `batch.committed` (or `batch.duplicate`) event that metrics and
 * /status read, and the one structured log line per batch with its id, counts, duration, rates and
 * offsets (Spark's StreamingQueryProgress fields: batchProgress below).
 */
import type { Logger } from '../api/component.ts'
import { type Position, advance } from '../api/position.ts'
import type { CommitResult } from './commit.ts'
import type { BatchResult } from './batch-runner.ts'
import type { PlannedBatch } from './checkpoint.ts'
import type { BatchProgress, EngineEvents, RecordDestination } from './events.ts'
import { lagOf, lastMeasuredLatest } from './probes.ts'
import type { DeadLetter, ProcessedBatch } from './records.ts'

/** Where a batch report goes. */
export interface BatchReportContext {
  readonly pipelineId: string
  readonly events: EngineEvents
  readonly logger: Logger
}

/**
 * When the previous batch's trigger fired, per query of a bus: Spark's input rate is the batch's
 * rows over the time between two triggers. Kept here because a report is a call, not an object.
 */
const previousTrigger = new WeakMap<EngineEvents, Map<string, number>>()

/** Emits the batch's event and writes its log line. */
export function reportBatch(
  o: BatchReportContext,
  planned: PlannedBatch,
  processed: ProcessedBatch,
  write: CommitResult,
  letters: { readonly dead: readonly DeadLetter[]; readonly rejectedByCode: Readonly<Record<string, number>> },
  result: BatchResult,
  committedAt: number,
): void {
  if (write.status === 'duplicate') {
    o.events.emit('batch.duplicate', { pipelineId: o.pipelineId, batchId: planned.batchId })
    o.logger.info({ batchId: planned.batchId }, 'batch already processed, skipped (exactly-once)')
    return
  }
  const dlqByCode: Record<string, number> = {}
  for (const d of letters.dead) dlqByCode[d.code] = (dlqByCode[d.code] ?? 0) + 1
  for (const [code, n] of Object.entries(letters.rejectedByCode)) dlqByCode[code] = (dlqByCode[code] ?? 0) + n
  const destinations: Partial<Record<RecordDestination, number>> = {
    table: result.written,
    dlq: result.dlq,
    late: result.late,
    filtered: result.filtered,
    dropped: processed.tombstonesSkipped,
  }
  const progress = batchProgress({ ...planned, batchId: result.batchId }, processed.recordsRead, result.durationMs, rememberTrigger(o, planned), lastMeasuredLatest(o.events, o.pipelineId) ?? null)
  o.events.emit('batch.committed', {
    pipelineId: o.pipelineId,
    batchId: result.batchId,
    recordsRead: processed.recordsRead,
    destinations,
    dlqByCode,
    durationMs: result.durationMs,
    committedAt,
    maxRecordTimestampMs: processed.maxTimestampMs,
    position: planned.end,
    watermarkMs: result.nextWatermarkMs,
    progress,
  })
  const source = progress.sources[0]
  o.logger.info(
    {
      batchId: result.batchId,
      records: processed.recordsRead,
      written: result.written,
      dlq: result.dlq,
      late: result.late,
      filtered: result.filtered,
      durationMs: result.durationMs,
      recordsPerSecond: Math.round(processed.recordsRead / (Math.max(result.durationMs, 1) / 1000)),
      watermark: result.nextWatermarkMs === null ? null : new Date(result.nextWatermarkMs).toISOString(),
      timestamp: progress.timestamp,
      numInputRows: progress.numInputRows,
      inputRowsPerSecond: progress.inputRowsPerSecond,
      processedRowsPerSecond: progress.processedRowsPerSecond,
      backlog: progress.backlog,
      startOffset: source?.startOffset,
      endOffset: source?.endOffset,
      latestOffset: source?.latestOffset,
    },
    'batch committed',
  )
}

/** The previous trigger time of this query (null for its first batch), after noting this batch's. */
function rememberTrigger(o: BatchReportContext, planned: PlannedBatch): number | null {
  let byQuery = previousTrigger.get(o.events)
  if (!byQuery) previousTrigger.set(o.events, (byQuery = new Map()))
  const previous = byQuery.get(o.pipelineId) ?? null
  const at = Date.parse(planned.plannedAt)
  if (Number.isFinite(at)) byQuery.set(o.pipelineId, at)
  return previous
}

/**
 * A batch in Spark's StreamingQueryProgress terms. `previousTriggerMs` dates the previous batch's
 * trigger (null: first batch, no input rate); `latest` is the source's latest position as last
 * measured (null: unknown), so the backlog is what was left then beyond this batch's end.
 */
export function batchProgress(planned: PlannedBatch, rows: number, durationMs: number, previousTriggerMs: number | null, latest: Position | null): BatchProgress {
  const triggerMs = Date.parse(planned.plannedAt)
  // A re-run batch keeps its original plannedAt: no meaningful interval, so no input rate.
  const interval = previousTriggerMs === null || !Number.isFinite(triggerMs) ? 0 : triggerMs - previousTriggerMs
  const inputRowsPerSecond = interval > 0 ? rate(rows, interval) : null
  const processedRowsPerSecond = rate(rows, Math.max(durationMs, 1))
  const endOffset = advance(planned.start, planned.end)
  // A source may answer {} before it knows its end (the rate-limited generator at start): unknown.
  const known = latest !== null && Object.keys(latest).length > 0 ? latest : null
  const partitionBacklog = known === null ? null : lagOf(endOffset, known)
  const backlog = partitionBacklog === null ? null : Object.values(partitionBacklog).reduce((a, n) => a + n, 0)
  return {
    batchId: planned.batchId,
    timestamp: planned.plannedAt,
    numInputRows: rows,
    inputRowsPerSecond,
    processedRowsPerSecond,
    durationMs,
    backlog,
    sources: [
      {
        startOffset: { ...planned.start },
        endOffset,
        latestOffset: known === null ? null : { ...known },
        numInputRows: rows,
        inputRowsPerSecond,
        processedRowsPerSecond,
        backlog: partitionBacklog,
      },
    ],
  }
}

/** Rows per second, to one decimal (Spark prints doubles; a tenth is plenty for a rate). */
function rate(rows: number, ms: number): number {
  return Math.round((rows * 10_000) / ms) / 10
}
