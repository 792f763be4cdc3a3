/**
 * The operational commands against real tables: `sluice status` (text and JSON: last batch,
 * records, positions per partition, lag against the topic's end), `sluice cleanup` (retention by
 * processed_at, never the newest row, and the pipeline still resumes after it) and `sluice sql`
 * (prints rows, refuses writes).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { produce } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice } from '../helpers/cli.ts'
import { EVENTS_DDL, assertExactlyOnce, events, topicWithEvents } from '../e2e/fixtures.ts'
import { count, opsPipeline } from './support.ts'

interface StatusReport {
  pipelineId: string
  database: string
  lastBatchId: number | null
  processedAt: string | null
  recordCount: number | null
  totalLag: number | null
  partitions: { partition: string; position: string; latest: string | null; lag: number | null; batchId: number }[]
}

let topic: string
let s: TestSchema
let file: string
let pipelineId: string

async function status(): Promise<StatusReport> {
  const r = await runSluice(['status', file, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as StatusReport
}

async function trackerIds(): Promise<number[]> {
  const { rows } = await s.pool.query<{ batch_id: string }>('SELECT batch_id FROM batch_tracker WHERE pipeline_id = $1 ORDER BY batch_id', [pipelineId])
  return rows.map((r) => Number(r.batch_id))
}

describe('status, cleanup and sql against real tables', () => {
  before(async () => {
    topic = await topicWithEvents(3000, 3)
    s = await createTestSchema('opsc')
    await s.pool.query(EVENTS_DDL)
    ;({ file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: 400 }))
    const run = await runSluice(['run', file])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    await assertExactlyOnce(s, 3000)
  })
  after(async () => {
    await s.drop()
  })

  test('status before the first run of a pipeline says so', async () => {
    const other = await opsPipeline(s, topic, { pipelineId: `never-${s.schema}` })
    const r = await runSluice(['status', other.file])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /last batch none/)
  })

  test('status: last batch, records, positions per partition; lag 0 caught up, > 0 after producing more', async () => {
    const ids = await trackerIds()
    const last = ids.at(-1) as number
    const { rows } = await s.pool.query<{ record_count: string }>('SELECT record_count FROM batch_tracker WHERE pipeline_id = $1 AND batch_id = $2', [pipelineId, last])
    const report = await status()
    assert.equal(report.pipelineId, pipelineId)
    assert.doesNotMatch(report.database, /password/i)
    assert.equal(report.lastBatchId, last)
    assert.equal(report.recordCount, Number(rows[0]?.record_count))
    assert.ok(report.processedAt !== null && Math.abs(Date.parse(report.processedAt) - Date.now()) < 5 * 60_000, 'processed moments ago')
    assert.deepEqual(report.partitions.map((p) => p.partition).sort(), [0, 1, 2].map((p) => `${topic}/${p}`))
    assert.deepEqual(report.partitions.map((p) => Number(p.position)), [1000, 1000, 1000], 'each partition holds 1000 records')
    assert.ok(report.partitions.every((p) => p.lag === 0 && p.latest === '1000'), 'lag 0 after catching up')
    assert.equal(report.totalLag, 0)

    const text = await runSluice(['status', file])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, new RegExp(`pipeline\\s+${pipelineId}`))
    assert.match(text.stdout, new RegExp(`last batch ${last} at \\S+ \\(${report.recordCount} records\\)`))
    for (const p of [0, 1, 2]) assert.match(text.stdout, new RegExp(`${topic}/${p}\\s+1000\\s+1000\\s+0\\n`))
    assert.match(text.stdout, /total lag 0/)

    await produce(topic, events(300, 3000).map((m, i) => ({ ...m, partition: i % 3 })))
    const behind = await status()
    assert.equal(behind.totalLag, 300)
    assert.deepEqual(behind.partitions.map((p) => p.lag), [100, 100, 100])
    assert.equal(behind.lastBatchId, last, 'nothing committed meanwhile')
    const textBehind = await runSluice(['status', file])
    assert.match(textBehind.stdout, /total lag 300/)

    const caughtUp = await runSluice(['run', file])
    assert.equal(caughtUp.code, 0, caughtUp.stderr.slice(-3000))
    await assertExactlyOnce(s, 3300)
    assert.equal((await status()).totalLag, 0)
  })

  test('cleanup: retention by processed_at, never the newest row; the pipeline resumes after it', async () => {
    const ids = await trackerIds()
    assert.ok(ids.length >= 8, `several batches to clean (${ids.length})`)
    // Backdate the three oldest rows by 10 days.
    await s.pool.query(`UPDATE batch_tracker SET processed_at = processed_at - interval '10 days' WHERE pipeline_id = $1 AND batch_id < 3`, [pipelineId])
    const keep = await runSluice(['cleanup', file, '--retention-days', '11'])
    assert.equal(keep.code, 0, keep.stderr)
    assert.match(keep.stdout, new RegExp(`Cleaned up 0 old batch records of ${pipelineId} \\(retention: 11 days\\)`))
    const five = await runSluice(['cleanup', file, '--retention-days', '5', '--json'])
    assert.equal(five.code, 0, five.stderr)
    assert.deepEqual(JSON.parse(five.stdout), { ok: true, pipelineId, retentionDays: 5, deleted: 3 })
    assert.deepEqual(await trackerIds(), ids.slice(3), 'the three backdated rows are gone, the rest kept')

    // Default retention: BATCH_RETENTION_DAYS.
    await s.pool.query(`UPDATE batch_tracker SET processed_at = processed_at - interval '3 days' WHERE pipeline_id = $1 AND batch_id = $2`, [pipelineId, ids[3]])
    const env = await runSluice(['cleanup', file], { BATCH_RETENTION_DAYS: '2' })
    assert.equal(env.code, 0, env.stderr)
    assert.match(env.stdout, /Cleaned up 1 old batch records .*\(retention: 2 days\)/)
    assert.deepEqual(await trackerIds(), ids.slice(4))

    // Retention 0: everything but the newest row, which recovery needs.
    const all = await runSluice(['cleanup', file, '--retention-days', '0'])
    assert.equal(all.code, 0, all.stderr)
    assert.match(all.stdout, new RegExp(`Cleaned up ${ids.length - 5} old batch records`))
    assert.deepEqual(await trackerIds(), [ids.at(-1)])
    const again = await runSluice(['cleanup', file, '--retention-days', '0'])
    assert.match(again.stdout, /Cleaned up 0 old batch records/)

    const bad = await runSluice(['cleanup', file, '--retention-days', '-1'])
    // A bad option value is a usage error (issue 10.9): one line, exit 2, nothing touched.
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--retention-days.*'-1' is invalid/)

    // After cleanup the pipeline resumes exactly from the kept row.
    await produce(topic, events(600, 3300).map((m, i) => ({ ...m, partition: i % 3 })))
    const resumed = await runSluice(['run', file])
    assert.equal(resumed.code, 0, resumed.stderr.slice(-3000))
    await assertExactlyOnce(s, 3900)
    const after = await trackerIds()
    assert.equal(after[0], ids.at(-1))
    after.forEach((id, i) => assert.equal(id, (ids.at(-1) as number) + i, 'batch ids continue without a gap'))
  })

  test('sql prints rows (table and JSON) and refuses writes', async () => {
    const n = await count(s)
    const table = await runSluice(['sql', file, 'SELECT count(*) AS n, min(id) AS lo FROM events'])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^n\s+\| lo\n-+-\+-+\n/)
    assert.match(table.stdout, new RegExp(`^${n}\\s*\\| 0$`, 'm'))
    assert.match(table.stdout, /\(1 row\)/)
    const json = await runSluice(['sql', file, 'SELECT pipeline_id, count(*)::int AS batches FROM batch_tracker GROUP BY 1', '--json'])
    assert.equal(json.code, 0, json.stderr)
    const rows = JSON.parse(json.stdout) as { pipeline_id: string; batches: number }[]
    assert.deepEqual(rows.map((r) => r.pipeline_id), [pipelineId])

    for (const write of ['DELETE FROM events', 'INSERT INTO events (id) VALUES (-1)', 'DROP TABLE events', 'UPDATE batch_tracker SET record_count = 0']) {
      const r = await runSluice(['sql', file, write])
      assert.equal(r.code, 1, `${write} must fail`)
      assert.match(r.stderr, /read-only transaction/, r.stderr)
    }
    assert.equal(await count(s), n, 'nothing was written')
    const { rows: zero } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM batch_tracker WHERE record_count = 0')
    assert.equal(Number(zero[0]?.n), 0)
  })
})
