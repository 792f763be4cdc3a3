// The aggregate merge (TestBatch.merge) on the real PostgreSQL server: the shared scenario of
// aggregate-merge.testkit.ts, and a refused aggregate row isolated while the others merge.
import { afterEach, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import type pg from 'pg'
import type { RejectedRow } from '../../../api/writer.ts'
import { MERGE, mergeScenario } from './aggregate-merge.testkit.ts'
import { TestSink, adminClient, batch, freshSchema, pgLoadConfig, testContext } from './testing.ts'

let admin: pg.Client
let schema: string
const sinks: TestSink[] = []

beforeEach(async () => {
  admin = await adminClient()
  schema = await freshSchema(admin, 'agg')
})

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close()
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
  await admin.end()
})

test('aggregate partials merge by rule into PostgreSQL, exactly once', async () => {
  await mergeScenario(async (overrides, options) => {
    const sink = new TestSink(pgLoadConfig(schema, overrides), testContext(), options)
    sinks.push(sink)
    await sink.open(AbortSignal.timeout(10_000))
    return sink
  }, `"${schema}".events`)
})

test('a refused aggregate row is isolated; the other groups still merge', async () => {
  await admin.query(`CREATE TABLE "${schema}".events (k varchar(3) primary key, n bigint, s numeric, lo numeric, hi numeric, mean double precision, mean__sum numeric, mean__count bigint, note text)`)
  const sink = new TestSink(pgLoadConfig(schema, { writeMode: 'upsert', upsertKeys: ['k'] }), testContext())
  sinks.push(sink)
  await sink.open(AbortSignal.timeout(10_000))
  const refused: RejectedRow[] = []
  const b = { ...batch(1, [{ k: 'ok', n: 2 }, { k: 'too long', n: 5 }, { k: 'ok2', n: 1 }]), merge: MERGE }
  const result = await sink.write(b, (r) => {
    refused.push(...r)
    return []
  })
  assert.equal(result.written, 2)
  assert.deepEqual(refused.map((r) => [r.row.values.k, r.error.code]), [['too long', 'RECORD_COLUMN']])
  const { rows } = await admin.query(`SELECT k, n::int FROM "${schema}".events ORDER BY k`)
  assert.deepEqual(rows, [{ k: 'ok', n: 2 }, { k: 'ok2', n: 1 }])
})
