/**
 * One schema resolution: `run`, `status`, `cleanup` and `sql` find the bookkeeping tables in the
 * same schema. Without currentSchema that is the connection's current_schema() (here the URL sets
 * `search_path = <etl>, public`, as a role's or database's setting would); with currentSchema it is
 * that name exactly, also mixed-case or written with JDBC-style quotes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { pgSettings, pgUrl } from '../helpers/pg.ts'

const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const admin = new pg.Client(pgSettings())
const schemas: string[] = []

async function schemaWithTable(name: string): Promise<void> {
  schemas.push(name)
  await admin.query(`CREATE SCHEMA "${name}"`)
  await admin.query(`CREATE TABLE "${name}".gen (id bigint, v text)`)
}

function pipeline(pipelineId: string, connectionParams: Record<string, unknown>) {
  return {
    pipelineId,
    mode: 'batch',
    extract: { sourceType: 'generator', totalRecords: 20, fields: { id: { type: 'sequence' }, v: { type: 'string' } } },
    load: { sinkType: 'postgresql', table: 'gen', connectionParams },
  }
}

async function trackerRows(schema: string, pipelineId: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".batch_tracker WHERE pipeline_id = $1`, [pipelineId])
  return rows[0]?.n ?? 0
}

describe('run, status, cleanup and sql use one schema', { timeout: 180_000 }, () => {
  before(() => admin.connect())
  after(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
    await admin.end()
  })

  test('search_path = etl, public: run writes etl.batch_tracker and status, cleanup, sql read it there', async () => {
    const etl = `etl_${suffix}`
    await schemaWithTable(etl)
    const pipelineId = `schema-path-${suffix}`
    const url = `${pgUrl()}?options=${encodeURIComponent(`-c search_path=${etl},public`)}`
    const { file } = await writePipeline(pipeline(pipelineId, { url }))
    const run = await runSluice(['run', file])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    assert.equal(await trackerRows(etl, pipelineId), 1, 'run wrote its tracker row into the first schema of the search path')

    const status = await runSluice(['status', file, '--json'])
    assert.equal(status.code, 0, status.stderr)
    const report = JSON.parse(status.stdout) as { lastBatchId: number | null; recordCount: number | null }
    assert.deepEqual([report.lastBatchId, report.recordCount], [0, 20], 'status finds the batch run committed')

    const sql = await runSluice(['sql', file, 'SELECT count(*)::int AS n FROM batch_tracker WHERE pipeline_id = ' + `'${pipelineId}'`, '--json'])
    assert.equal(sql.code, 0, sql.stderr)
    assert.deepEqual(JSON.parse(sql.stdout), [{ n: 1 }])

    // An old row beside the newest one: cleanup must find and delete it in the same schema.
    await admin.query(`INSERT INTO "${etl}".batch_tracker (pipeline_id, batch_id, processed_at, record_count) VALUES ($1, -1, now() - interval '90 days', 0)`, [pipelineId])
    const cleanup = await runSluice(['cleanup', file, '--retention-days', '30', '--json'])
    assert.equal(cleanup.code, 0, cleanup.stderr)
    assert.equal((JSON.parse(cleanup.stdout) as { deleted: number }).deleted, 1)
    assert.equal(await trackerRows(etl, pipelineId), 1)
  })

  test('currentSchema "Sales" (mixed case, also with JDBC-style quotes) is used exactly by run and sql', async () => {
    const upper = `Sales_${suffix}`
    await schemaWithTable(upper)
    await schemaWithTable(upper.toLowerCase())
    for (const [i, currentSchema] of [upper, `"${upper}"`].entries()) {
      const pipelineId = `schema-case-${i}-${suffix}`
      const { file } = await writePipeline(pipeline(pipelineId, { url: pgUrl(), currentSchema }))
      const run = await runSluice(['run', file])
      assert.equal(run.code, 0, run.stderr.slice(-3000))
      assert.equal(await trackerRows(upper, pipelineId), 1, `${currentSchema}: tracker row in "${upper}"`)
      const sql = await runSluice(['sql', file, 'SELECT count(*)::int AS n FROM gen', '--json'])
      assert.equal(sql.code, 0, sql.stderr)
      assert.deepEqual(JSON.parse(sql.stdout), [{ n: 20 * (i + 1) }], `${currentSchema}: sql reads "${upper}".gen`)
      const status = await runSluice(['status', file, '--json'])
      assert.equal((JSON.parse(status.stdout) as { lastBatchId: number | null }).lastBatchId, 0)
    }
    const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${upper.toLowerCase()}".gen`)
    assert.equal(rows[0]?.n, 0, 'nothing went to the lower-case twin')
  })
})
