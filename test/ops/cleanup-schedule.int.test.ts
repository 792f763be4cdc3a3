/**
 * The cleanup job scheduled inside `sluice run` (monitoring.cleanupIntervalHours): while a continuous
 * pipeline runs, old batch_tracker rows are deleted every interval (retention BATCH_RETENTION_DAYS),
 * the newest row is kept, the count is logged and etl_batch_tracker_records_total follows; the
 * pipeline keeps loading exactly once and stops cleanly.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { produce } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { startSluice } from '../helpers/cli.ts'
import { EVENTS_DDL, assertExactlyOnce, events, topicWithEvents } from '../e2e/fixtures.ts'
import { count, freePort, metric, opsPipeline, scrape, until } from './support.ts'

describe('scheduled cleanup', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('cleanupIntervalHours deletes old tracker rows while running, keeping the newest', async (t) => {
    const topic = await topicWithEvents(2000, 2)
    const s = await createTestSchema('opsk')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    // 0.0005 h = 1.8 s.
    const { file, pipelineId } = await opsPipeline(s, topic, { trigger: 'continuous', maxOffsets: 250, monitoring: { cleanupIntervalHours: 0.0005 } })
    const running = startSluice(['run', file, '--http-port', String(port)], { BATCH_RETENTION_DAYS: '0' })
    t.after(() => running.child.kill('SIGKILL'))
    const trackerRows = async (): Promise<number[]> => {
      const { rows } = await s.pool.query<{ batch_id: string }>('SELECT batch_id FROM batch_tracker ORDER BY batch_id')
      return rows.map((r) => Number(r.batch_id))
    }
    let keptId: number | undefined
    try {
      await until('2000 rows loaded', async () => (await count(s)) === 2000, 30_000, running.output)
      await until('the tracker is cleaned down to its newest row', async () => (await trackerRows()).length === 1, 20_000)
      const [kept] = await trackerRows()
      keptId = kept
      assert.ok((kept ?? 0) >= 7, `the newest of at least 8 batches is kept (batch ${kept})`)
      await until('etl_batch_tracker_records_total follows the cleanup', async () => metric((await scrape(base)).samples, 'etl_batch_tracker_records_total', pipelineId) === 1)
      await produce(topic, events(500, 2000).map((m, i) => ({ ...m, partition: i % 2 })))
      await until('2500 rows loaded', async () => (await count(s)) === 2500)
    } finally {
      running.child.kill('SIGTERM')
    }
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    await assertExactlyOnce(s, 2500)
    const lines = result.stdout.split('\n').filter((l) => l.includes('"job":"cleanup"')).map((l) => JSON.parse(l) as { msg: string; deleted?: number; retentionDays: number; intervalHours?: number; pipelineId: string })
    assert.equal(lines[0]?.msg, 'batch_tracker cleanup scheduled')
    assert.equal(lines[0]?.intervalHours, 0.0005)
    const runs = lines.filter((l) => l.deleted !== undefined)
    assert.ok(runs.length >= 1)
    assert.ok(runs.every((l) => l.retentionDays === 0 && l.pipelineId === pipelineId && l.msg === `cleaned up ${l.deleted} old batch_tracker rows`))
    assert.ok(runs.reduce((a, l) => a + (l.deleted ?? 0), 0) >= 7, 'the deleted counts add up to the old batches')
    // Batch ids continue from the kept row: it anchors recovery.
    const ids = await trackerRows()
    assert.ok(ids.length >= 1 && ids.every((id) => id >= (keptId as number)), `only the kept and later batches remain: ${ids.join(',')}`)
    assert.ok((ids.at(-1) ?? 0) > (keptId as number), 'the second wave committed new batch ids')
  })
})
