// The seed's BatchTracker tests, on a real PostgreSQL server, one schema per test.
import { afterEach, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import type pg from 'pg'
import { TestSink, adminClient, batch, freshSchema, pgLoadConfig, testContext } from './testing.ts'

let admin: pg.Client
let schema: string
let sink: TestSink
const P = 'test-pipeline'

beforeEach(async () => {
  admin = await adminClient()
  schema = await freshSchema(admin, 'tracker')
  sink = new TestSink(pgLoadConfig(schema), testContext())
  await sink.open(AbortSignal.timeout(10_000))
})

afterEach(async () => {
  await sink.close()
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
  await admin.end()
})

test('the tracker table is the seed table, with its index', async () => {
  const cols = await admin.query(
    `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'batch_tracker' ORDER BY ordinal_position`,
    [schema],
  )
  assert.deepEqual(
    cols.rows.map((c) => [c.column_name, c.data_type, c.len, c.is_nullable]),
    [
      ['pipeline_id', 'character varying', 255, 'NO'],
      ['batch_id', 'bigint', null, 'NO'],
      ['processed_at', 'timestamp without time zone', null, 'NO'],
      ['record_count', 'bigint', null, 'YES'],
      ['checkpoint_location', 'character varying', 500, 'YES'],
    ],
  )
  const idx = await admin.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'batch_tracker' ORDER BY 1`, [schema])
  assert.deepEqual(idx.rows.map((r) => r.indexname), ['batch_tracker_pkey', 'idx_batch_tracker_processed_at'])
})

test('batch not processed initially', async () => {
  assert.equal(await sink.tracker.isBatchProcessed(P, 1), false)
})

test('batch marked as processed after marking', async () => {
  await sink.tracker.withTransaction((tx) => sink.tracker.markBatchProcessed(tx, P, 1, 100))
  assert.equal(await sink.tracker.isBatchProcessed(P, 1), true)
})

test('duplicate batch marking is idempotent', async () => {
  assert.equal(await sink.tracker.withTransaction((tx) => sink.tracker.markBatchProcessed(tx, P, 1, 100)), true)
  assert.equal(await sink.tracker.withTransaction((tx) => sink.tracker.markBatchProcessed(tx, P, 1, 100)), false)
  assert.equal(await sink.tracker.isBatchProcessed(P, 1), true)
  const n = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".batch_tracker`)
  assert.equal(n.rows[0].n, 1)
})

test('transaction rollback on error', async () => {
  await assert.rejects(
    sink.tracker.withTransaction(async (tx) => {
      await sink.tracker.markBatchProcessed(tx, P, 1, 100)
      throw new Error('Simulated error')
    }),
    /Simulated error/,
  )
  assert.equal(await sink.tracker.isBatchProcessed(P, 1), false)
})

test('get last processed batch ID', async () => {
  assert.equal(await sink.tracker.lastProcessedBatchId(P), null)
  await sink.tracker.withTransaction(async (tx) => {
    await sink.tracker.markBatchProcessed(tx, P, 1, 100)
    await sink.tracker.markBatchProcessed(tx, P, 2, 200)
    await sink.tracker.markBatchProcessed(tx, P, 3, 300)
  })
  assert.equal(await sink.tracker.lastProcessedBatchId(P), 3)
})

test('cleanup old batches', async () => {
  await sink.tracker.withTransaction(async (tx) => {
    await sink.tracker.markBatchProcessed(tx, P, 1, 100)
    await sink.tracker.markBatchProcessed(tx, P, 2, 200)
    await sink.tracker.markBatchProcessed(tx, 'other', 7, 1)
  })
  // Batch 1 is 31 days old; so is the other pipeline's only (newest) row, which must survive.
  await admin.query(`UPDATE "${schema}".batch_tracker SET processed_at = LOCALTIMESTAMP - interval '31 days' WHERE batch_id IN (1, 7)`)
  assert.equal(await sink.cleanup(undefined, 30), 1)
  assert.equal(await sink.tracker.isBatchProcessed(P, 1), false)
  assert.equal(await sink.tracker.isBatchProcessed(P, 2), true)
  assert.equal(await sink.tracker.isBatchProcessed('other', 7), true)
  assert.equal(await sink.cleanup(P, 30), 0)
})

// The seed's monitoring queries are run from ops/sql/monitoring.sql, unchanged, in test/ops/monitoring-sql.int.test.ts.

test('readStatus reports the last batch, watermark and positions', async () => {
  await admin.query(`CREATE TABLE "${schema}".events (id bigint)`)
  await sink.write(batch(1, [{ id: 1 }], { watermark: 5000 }))
  const s = await sink.readStatus(P)
  assert.equal(s.lastBatchId, 1)
  assert.equal(s.recordCount, 1)
  assert.equal(s.watermarkMs, 5000)
  assert.deepEqual(s.positions.map((p) => [p.partition, p.position, p.batchId]), [['t/0', '1000', 1]])
})
