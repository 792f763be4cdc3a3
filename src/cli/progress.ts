/**
 * The live progress line of `sluice run` on a terminal: one line on stderr, rewritten in place
 * (at most four times a second) with batches, records, the last batch's input and processing
 * rates (Spark's inputRowsPerSecond, processedRowsPerSecond) and the backlog left, per query.
 */
import type { BatchCommittedEvent, EngineEvents } from '../engine/events.ts'

interface Totals {
  batches: number
  records: number
  written: number
  dlq: number
  late: number
  processedRate: number
  inputRate: number | null
  backlog: number | null
}

/** Where the line goes: a terminal (process.stderr) or a stand-in with the same fields. */
export type ProgressStream = Pick<NodeJS.WriteStream, 'isTTY' | 'columns' | 'write'>

/** Starts the progress line when `stream` is a TTY; returns a function that ends it. */
export function startProgress(events: EngineEvents, stream: ProgressStream = process.stderr, intervalMs = 250): () => void {
  if (!stream.isTTY) return () => {}
  const totals = new Map<string, Totals>()
  let dirty = false
  const off = events.on((name, payload) => {
    if (name !== 'batch.committed') return
    const p = payload as BatchCommittedEvent
    const t = totals.get(p.pipelineId) ?? { batches: 0, records: 0, written: 0, dlq: 0, late: 0, processedRate: 0, inputRate: null, backlog: null }
    t.batches++
    t.records += p.recordsRead
    t.written += p.destinations.table ?? 0
    t.dlq += p.destinations.dlq ?? 0
    t.late += p.destinations.late ?? 0
    t.processedRate = p.progress.processedRowsPerSecond
    t.inputRate = p.progress.inputRowsPerSecond
    // Unknown stays the last known figure: a source without latest() never had one.
    if (p.progress.backlog !== null) t.backlog = p.progress.backlog
    totals.set(p.pipelineId, t)
    dirty = true
  })
  const timer = setInterval(() => {
    if (!dirty) return
    dirty = false
    const parts = [...totals].map(([id, t]) => progressPart(id, t))
    stream.write(`\r\x1b[K${parts.join(' | ').slice(0, (stream.columns ?? 120) - 1)}`)
  }, intervalMs)
  timer.unref()
  return () => {
    clearInterval(timer)
    off()
    if (totals.size > 0) stream.write('\r\x1b[K')
  }
}

/** One query's part; rates and backlog come before the breakdown, so a narrow terminal cuts the least useful end. */
function progressPart(id: string, t: Totals): string {
  const input = t.inputRate === null ? '' : `in ${Math.round(t.inputRate)}/s, `
  const backlog = t.backlog === null ? '' : `, backlog ${t.backlog}`
  return `${id}: ${t.batches} batches, ${t.records} records, ${input}processed ${Math.round(t.processedRate)}/s${backlog} (${t.written} written, ${t.dlq} DLQ, ${t.late} late)`
}
