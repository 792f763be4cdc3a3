/**
 * The live progress line of `sluice run` on a terminal: one line on stderr, rewritten in place
 * (at most four times a second) with batches, records and the current rate of every query.
 */
import type { BatchCommittedEvent, EngineEvents } from '../engine/events.ts'

interface Totals {
  batches: number
  records: number
  written: number
  dlq: number
  late: number
  lastRate: number
}

/** Starts the progress line when `stream` is a TTY; returns a function that ends it. */
export function startProgress(events: EngineEvents, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => {}
  const totals = new Map<string, Totals>()
  let dirty = false
  const off = events.on((name, payload) => {
    if (name !== 'batch.committed') return
    const p = payload as BatchCommittedEvent
    const t = totals.get(p.pipelineId) ?? { batches: 0, records: 0, written: 0, dlq: 0, late: 0, lastRate: 0 }
    t.batches++
    t.records += p.recordsRead
    t.written += p.destinations.table ?? 0
    t.dlq += p.destinations.dlq ?? 0
    t.late += p.destinations.late ?? 0
    t.lastRate = Math.round(p.recordsRead / (Math.max(p.durationMs, 1) / 1000))
    totals.set(p.pipelineId, t)
    dirty = true
  })
  const timer = setInterval(() => {
    if (!dirty) return
    dirty = false
    const parts = [...totals].map(([id, t]) => `${id}: ${t.batches} batches, ${t.records} records (${t.written} written, ${t.dlq} DLQ, ${t.late} late), ${t.lastRate}/s`)
    stream.write(`\r\x1b[K${parts.join(' | ').slice(0, (stream.columns ?? 120) - 1)}`)
  }, 250)
  timer.unref()
  return () => {
    clearInterval(timer)
    off()
    if (totals.size > 0) stream.write('\r\x1b[K')
  }
}
