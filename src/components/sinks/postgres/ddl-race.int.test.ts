// Several sinks opening one fresh schema at the same moment (several pipelines in one process, or
// several processes) all create the bookkeeping and side tables without failing on the catalog race.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TestSink, adminClient, batch, freshSchema, pgLoadConfig, testContext } from './testing.ts'

test('concurrent opens and first writes into one fresh schema do not trip over each other', async () => {
  const admin = await adminClient()
  try {
    for (let round = 0; round < 5; round++) {
      const schema = await freshSchema(admin, 'race')
      await admin.query(`CREATE TABLE "${schema}".t (id bigint)`)
      const sinks = [0, 1, 2, 3].map((i) => new TestSink(pgLoadConfig(schema, { table: 't' }), testContext(process.cwd(), `p${i}`)))
      try {
        await Promise.all(sinks.map((s) => s.open(AbortSignal.timeout(10_000))))
        const side = { table: 'shared_dlq', columns: { id: 'bigint' }, rows: [{ id: 1 }] }
        const results = await Promise.all(sinks.map((s, i) => s.write(batch(0, [{ id: i }], { pipelineId: `p${i}`, start: null, sideOutputs: [side] }))))
        assert.deepEqual(results.map((r) => r.status), ['committed', 'committed', 'committed', 'committed'])
        const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".shared_dlq`)
        assert.equal(rows[0].n, 4)
      } finally {
        await Promise.all(sinks.map((s) => s.close()))
        await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
      }
    }
  } finally {
    await admin.end()
  }
})
