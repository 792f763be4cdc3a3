// The seed's BatchTracker tests, on a real PostgreSQL server, one schema per test.
import { afterEach, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import type pg from 'pg'
import { createPostgresSink, type PostgresSink } from './index.ts'
import { adminClient, batch, freshSchema, pgLoadConfig, testContext } from './testing.ts'

let admin: pg.Client
let schema: string
let sink: PostgresSink
const P = 'test-pipeline'

beforeEach(async () => {
  admin = await adminClient()
  schema = await freshSchema(admin, 'tracker')
  sink = createPostgresSink(pgLoadConfig(schema), testContext())
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

test("the seed's monitoring queries run unchanged", async () => {
  await sink.tracker.withTransaction(async (tx) => {
    for (const id of [1, 2, 4]) await sink.tracker.markBatchProcessed(tx, P, id, id * 10)
  })
  await admin.query(`SET search_path TO "${schema}"`)
  const last = await admin.query(`SELECT
  pipeline_id,
  MAX(batch_id) as last_batch_id,
  MAX(processed_at) as last_processed_at,
  SUM(record_count) as total_records
FROM batch_tracker
GROUP BY pipeline_id
ORDER BY last_processed_at DESC;`)
  assert.equal(last.rows[0].last_batch_id, '4')
  assert.equal(last.rows[0].total_records, '70')
  await admin.query(`SELECT pipeline_id, MAX(processed_at) as last_activity FROM batch_tracker GROUP BY pipeline_id HAVING MAX(processed_at) < NOW() - INTERVAL '1 hour' ORDER BY last_activity DESC;`)
  await admin.query(`SELECT pipeline_id, DATE_TRUNC('minute', processed_at) as minute, COUNT(*) as batches_per_minute, SUM(record_count) as records_per_minute FROM batch_tracker WHERE processed_at > NOW() - INTERVAL '1 hour' GROUP BY pipeline_id, DATE_TRUNC('minute', processed_at) ORDER BY minute DESC;`)
  const gaps = await admin.query(`WITH batch_gaps AS (
  SELECT
    pipeline_id,
    batch_id,
    LAG(batch_id) OVER (PARTITION BY pipeline_id ORDER BY batch_id) as prev_batch_id
  FROM batch_tracker
)
SELECT
  pipeline_id,
  prev_batch_id,
  batch_id,
  batch_id - prev_batch_id - 1 as gap_size
FROM batch_gaps
WHERE batch_id - prev_batch_id > 1
ORDER BY gap_size DESC;`)
  assert.deepEqual(gaps.rows.map((r) => [r.prev_batch_id, r.batch_id, r.gap_size]), [['2', '4', '1']])
})

test('readStatus reports the last batch, watermark and positions', async () => {
  await admin.query(`CREATE TABLE "${schema}".events (id bigint)`)
  await sink.write(batch(1, [{ id: 1 }], { watermark: 5000 }))
  const s = await sink.readStatus(P)
  assert.equal(s.lastBatchId, 1)
  assert.equal(s.recordCount, 1)
  assert.equal(s.watermarkMs, 5000)
  assert.deepEqual(s.positions.map((p) => [p.partition, p.position, p.batchId]), [['t/0', '1000', 1]])
})
