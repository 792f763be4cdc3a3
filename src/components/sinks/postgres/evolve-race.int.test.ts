// autoEvolve with several workers on one table (README "Scaling out"), on the real server: workers
// adding the same column at the same moment all commit, and a worker whose table description is
// stale (another added the column first, with another type) writes by the table's type, not its own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TestSink, adminClient, batch, freshSchema, pgLoadConfig, testContext } from './testing.ts'

test('concurrent batches adding the same column all commit; the column is added once', async () => {
  const admin = await adminClient()
  try {
    for (let round = 0; round < 4; round++) {
      const schema = await freshSchema(admin, 'evolve_race')
      await admin.query(`CREATE TABLE "${schema}".t (id bigint)`)
      const sinks = [0, 1, 2, 3].map((i) => new TestSink(pgLoadConfig(schema, { table: 't', autoEvolve: true }), testContext(process.cwd(), `p${i}`)))
      try {
        await Promise.all(sinks.map((s) => s.open(AbortSignal.timeout(10_000))))
        const results = await Promise.all(sinks.map((s, i) => s.write(batch(1, [{ id: i, score: i * 10, [`own_${i}`]: 'x' }], { pipelineId: `p${i}`, start: null }))))
        assert.deepEqual(results.map((r) => r.status), ['committed', 'committed', 'committed', 'committed'])
        const cols = await admin.query<{ name: string; type: string }>(
          'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attname',
          [`"${schema}".t`],
        )
        assert.deepEqual(cols.rows, [
          { name: 'id', type: 'bigint' },
          { name: 'own_0', type: 'text' },
          { name: 'own_1', type: 'text' },
          { name: 'own_2', type: 'text' },
          { name: 'own_3', type: 'text' },
          { name: 'score', type: 'bigint' },
        ])
        const { rows } = await admin.query(`SELECT id::int AS id, score::int AS score FROM "${schema}".t ORDER BY id`)
        assert.deepEqual(rows, [0, 1, 2, 3].map((i) => ({ id: i, score: i * 10 })))
      } finally {
        await Promise.all(sinks.map((s) => s.close()))
        await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
      }
    }
  } finally {
    await admin.end()
  }
})

test('a worker that did not know the column writes by the type another worker gave it: a misfit is refused, the type stays', async () => {
  const admin = await adminClient()
  const schema = await freshSchema(admin, 'evolve_stale')
  await admin.query(`CREATE TABLE "${schema}".t (id bigint)`)
  const [a, b] = [0, 1].map((i) => new TestSink(pgLoadConfig(schema, { table: 't', autoEvolve: true }), testContext(process.cwd(), `p${i}`))) as [TestSink, TestSink]
  try {
    await a.open(AbortSignal.timeout(10_000))
    await b.open(AbortSignal.timeout(10_000))
    // Both described the table as (id) at open. A adds score as bigint (integers).
    assert.equal((await a.write(batch(1, [{ id: 1, score: 5 }], { pipelineId: 'p0', start: null }))).status, 'committed')
    // B's batch would make it numeric; IF NOT EXISTS adds nothing, and B re-reads the column as bigint.
    const refused: string[] = []
    const r = await b.write(batch(1, [{ id: 2, score: 2.5 }, { id: 3, score: 7 }], { pipelineId: 'p1', start: null }), (rejected) => {
      for (const x of rejected) refused.push(`${x.error.code} ${x.error.message}`)
      return []
    })
    assert.equal(r.status, 'committed')
    assert.deepEqual(refused, ['RECORD_COLUMN invalid input syntax for type bigint; column score'])
    const { rows } = await admin.query(`SELECT id::int AS id, score::text AS score, format_type(a.atttypid, a.atttypmod) AS type FROM "${schema}".t, pg_attribute a WHERE a.attrelid = '"${schema}".t'::regclass AND a.attname = 'score' ORDER BY id`)
    assert.deepEqual(rows, [
      { id: 1, score: '5', type: 'bigint' },
      { id: 3, score: '7', type: 'bigint' },
    ])
  } finally {
    await a.close()
    await b.close()
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
    await admin.end()
  }
})
