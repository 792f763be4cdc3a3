/**
 * What a finished batch reports: the `batch.committed` (or `batch.duplicate`) event that metrics and
 * /status read, and the one structured log line per batch with its id, counts, duration and rate.
 */
import type { Logger } from '../api/component.ts'
import type { CommitResult } from './commit.ts'
import type { BatchResult } from './batch-runner.ts'
import type { PlannedBatch } from './checkpoint.ts'
import type { EngineEvents, RecordDestination } from './events.ts'
import type { DeadLetter, ProcessedBatch } from './records.ts'

/** Where a batch report goes. */
export interface BatchReportContext {
  readonly pipelineId: string
  readonly events: EngineEvents
  readonly logger: Logger
}

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
    late: processed.late.length,
    filtered: processed.filtered,
    dropped: processed.tombstonesSkipped,
  }
  o.events.emit('batch.committed', {
    pipelineId: o.pipelineId,
    batchId: planned.batchId,
    recordsRead: processed.recordsRead,
    destinations,
    dlqByCode,
    durationMs: result.durationMs,
    committedAt,
    maxRecordTimestampMs: processed.maxTimestampMs,
    position: planned.end,
    watermarkMs: processed.nextWatermarkMs,
  })
  const seconds = Math.max(result.durationMs, 1) / 1000
  o.logger.info(
    {
      batchId: planned.batchId,
      records: processed.recordsRead,
      written: result.written,
      dlq: result.dlq,
      late: result.late,
      filtered: result.filtered,
      durationMs: result.durationMs,
      recordsPerSecond: Math.round(processed.recordsRead / seconds),
      watermark: processed.nextWatermarkMs === null ? null : new Date(processed.nextWatermarkMs).toISOString(),
    },
    'batch committed',
  )
}
