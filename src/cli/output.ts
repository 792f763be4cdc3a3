/** Run summary printing: a short human table, or JSON with --json. */
import type { QueryOutcome } from '../runtime/run.ts'
import { redactSecrets, redactText } from '../secrets.ts'

/** Prints the outcome of every query to stdout. */
export function printSummary(outcomes: readonly QueryOutcome[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(redactSecrets({ ok: outcomes.every((o) => o.ok), queries: outcomes }), null, 2)}\n`)
    return
  }
  for (const o of outcomes) {
    const s = o.summary
    const status = o.ok ? 'ok' : `FAILED (${o.error?.code}: ${redactText(String(o.error?.message ?? ''))})`
    process.stdout.write(`\n${o.pipelineId}: ${status}\n`)
    if (s) {
      process.stdout.write(
        `  batches ${s.batches} (skipped as duplicates ${s.duplicates}), last batch id ${s.lastBatchId ?? '-'}\n` +
          `  records read ${s.recordsRead}: written ${s.written}, dead-lettered ${s.dlq}, late ${s.late}, filtered ${s.filtered}\n`,
      )
      if (s.watermarkMs !== null) process.stdout.write(`  watermark ${new Date(s.watermarkMs).toISOString()}\n`)
    }
  }
}
