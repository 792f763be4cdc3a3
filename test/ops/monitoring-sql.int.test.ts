/**
 * ops/sql/monitoring.sql (the seed's monitoring queries, shipped for psql) runs unchanged, statement
 * by statement, against the batch_tracker table Sluice created during a real run, and answers
 * correctly: last batch and totals, stale pipelines, rate per minute, gaps in the batch sequence.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { spawnSync } from 'node:child_process'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { runSluice } from '../helpers/cli.ts'
import { EVENTS_DDL, assertExactlyOnce, topicWithEvents } from '../e2e/fixtures.ts'
import { opsPipeline } from './support.ts'

const sqlFile = new URL('../../ops/sql/monitoring.sql', import.meta.url)

/** The file's statements, as psql would send them (split at `;` ending a line, comments kept). */
async function statements(): Promise<string[]> {
  const text = await readFile(sqlFile, 'utf8')
  return text
    .split(/;[ \t]*$/m)
    .map((s) => s.trim())
    .filter((s) => s.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('--')))
}

let s: TestSchema
let pipelineId: string

describe('ops/sql/monitoring.sql', () => {
  before(async () => {
    const topic = await topicWithEvents(2500, 2)
    s = await createTestSchema('opsq')
    await s.pool.query(EVENTS_DDL)
    const p = await opsPipeline(s, topic, { maxOffsets: 500 })
    pipelineId = p.pipelineId
    const run = await runSluice(['run', p.file])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    await assertExactlyOnce(s, 2500)
  })
  after(async () => {
    await s.drop()
  })

  test('every statement executes unchanged and answers from the tracker Sluice wrote', async () => {
    const [lastBatch, stale, rate, gaps, ...rest] = await statements()
    assert.ok(lastBatch && stale && rate && gaps, 'four queries')
    assert.equal(rest.length, 0)
    const { rows: batches } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM batch_tracker')
    const n = Number(batches[0]?.n)
    assert.ok(n >= 5)

    const last = await s.pool.query<{ pipeline_id: string; last_batch_id: string; last_processed_at: Date; total_records: string }>(lastBatch)
    assert.equal(last.rows.length, 1)
    assert.equal(last.rows[0]?.pipeline_id, pipelineId)
    assert.equal(Number(last.rows[0]?.last_batch_id), n - 1)
    assert.equal(Number(last.rows[0]?.total_records), 2500)
    assert.ok(last.rows[0]?.last_processed_at instanceof Date)

    assert.equal((await s.pool.query(stale)).rows.length, 0, 'the pipeline ran moments ago: not stale')
    const perMinute = await s.pool.query<{ pipeline_id: string; batches_per_minute: string; records_per_minute: string }>(rate)
    assert.ok(perMinute.rows.length >= 1)
    assert.equal(perMinute.rows.reduce((a, r) => a + Number(r.batches_per_minute), 0), n)
    assert.equal(perMinute.rows.reduce((a, r) => a + Number(r.records_per_minute), 0), 2500)
    assert.equal((await s.pool.query(gaps)).rows.length, 0, 'contiguous batch ids: no gap')

    // Make the answers non-trivial: a gap (cleanup of a middle row) and a stale pipeline.
    await s.pool.query('DELETE FROM batch_tracker WHERE batch_id IN (1, 2)')
    const gap = await s.pool.query<{ prev_batch_id: string; batch_id: string; gap_size: string }>(gaps)
    assert.deepEqual(gap.rows.map((r) => [Number(r.prev_batch_id), Number(r.batch_id), Number(r.gap_size)]), [[0, 3, 2]])
    await s.pool.query(`UPDATE batch_tracker SET processed_at = processed_at - interval '2 hours'`)
    const staleRows = await s.pool.query<{ pipeline_id: string }>(stale)
    assert.deepEqual(staleRows.rows.map((r) => r.pipeline_id), [pipelineId])
    assert.equal((await s.pool.query(rate)).rows.length, 0, 'nothing in the last hour')
  })

  test('psql -f runs the whole file unchanged', (t) => {
    if (spawnSync('psql', ['--version']).status !== 0) {
      t.skip('psql not on PATH')
      return
    }
    const pg = pgSettings()
    const r = spawnSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', pg.database, '-f', sqlFile.pathname], {
      encoding: 'utf8',
      env: { ...process.env, PGOPTIONS: `-c search_path=${s.schema}` },
    })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, new RegExp(pipelineId))
  })
})
