/**
 * The quickstart: runs examples/quickstart/pipeline.json with the real `sluice` CLI (NDJSON files ->
 * embedded PostgreSQL, watermark, DLQ table), then shows what landed where with `sluice sql`.
 * Starts from a clean state each time (the embedded database and checkpoint live in
 * examples/quickstart/.sluice/). `npm run quickstart` runs this file.
 */
import { rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { main } from '../../src/cli/main.ts'

const here = import.meta.dirname
const pipeline = relative(process.cwd(), join(here, 'pipeline.json'))
const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text)
const say = (text: string): void => void process.stdout.write(`\n${bold(text)}\n`)

await rm(join(here, '.sluice'), { recursive: true, force: true })
say(`$ sluice run ${pipeline}`)
const code = await main(['node', 'sluice', 'run', pipeline])
if (code !== 0) process.exit(code)

const queries: [string, string][] = [
  ['Where every record went', `SELECT 'clicks (target table)' AS destination, count(*) AS records FROM clicks
     UNION ALL SELECT 'clicks_dlq (bad records)', count(*) FROM clicks_dlq
     UNION ALL SELECT 'clicks_late (behind the watermark)', count(*) FROM clicks_late`],
  ['The dead-letter queue: why each record was refused', `SELECT "sluice.error.code" AS code, "sluice.source.topic" AS file, "sluice.source.offset" AS line, left("sluice.error.reason", 60) AS reason FROM clicks_dlq ORDER BY 2, 3`],
  ['Late records (sent to a separate table)', `SELECT "sluice.source.topic" AS file, "sluice.source.offset" AS line, convert_from(value, 'UTF8')::jsonb->>'event_time' AS event_time FROM clicks_late ORDER BY 2`],
  ['Top pages', 'SELECT page, count(*) AS clicks, round(avg(duration_ms)) AS avg_ms FROM clicks GROUP BY page ORDER BY 2 DESC LIMIT 5'],
  ['The batch tracker (exactly-once bookkeeping)', 'SELECT pipeline_id, batch_id, record_count, processed_at FROM batch_tracker ORDER BY batch_id'],
]
for (const [title, sql] of queries) {
  say(`${title}:  sluice sql ${pipeline} "..."`)
  const status = await main(['node', 'sluice', 'sql', pipeline, sql])
  if (status !== 0) process.exit(status)
}
say('Run it again and nothing is loaded twice; add a file to examples/quickstart/data and run `npm run sluice -- run ' + pipeline + '` to load just that file.')
