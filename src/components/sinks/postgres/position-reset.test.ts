// The reset transaction on embedded PGlite (in memory): what it writes, what a dry run and a no-op
// leave alone, and that a failure inside it leaves every position as it was. The PostgreSQL server
// side (the run lock, SIGKILL mid-way) is in test/ops/reset.int.test.ts.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../../errors.ts'
import { createPgliteDriver } from './driver-pglite.ts'
import { partitionMoves, resetPositions, type ResetRequest } from './position-reset.ts'
import { BatchTracker } from './tracker.ts'

const db = createPgliteDriver(undefined)
after(() => db.close())
let schemas = 0

/** A tracker in a fresh schema; with `committed`, batches 0..n-1 already moved t/0 and t/1. */
async function tracker(committed = 0, watermarkMs: number | null = 5000): Promise<BatchTracker> {
  const schema = `reset_${++schemas}`
  await db.query(`CREATE SCHEMA ${schema}`)
  const t = new BatchTracker(db, schema)
  if (committed === 0) return t
  await t.ensureTables()
  for (let id = 0; id < committed; id++) {
    await db.transaction(async (tx) => {
      await t.markBatchProcessed(tx, 'p', id, 10, '/ckpt')
      const start: Record<string, string> = id === 0 ? {} : { 't/0': String(id * 10), 't/1': String(id * 10) }
      await t.fence(tx, 'p', id, start, { 't/0': String((id + 1) * 10), 't/1': String((id + 1) * 10) }, { 't/0': 9000 + id, 't/1': 8000 + id })
      await t.saveState(tx, 'p', id, watermarkMs)
    })
  }
  return t
}

function request(over: Partial<ResetRequest> = {}): ResetRequest {
  return { pipelineId: 'p', target: 'earliest', dryRun: false, keepWatermark: false, resetBy: 'tester@host pid 1', checkpointLocation: '/ckpt', createTables: true, ...over }
}

/** Each partition's largest event time, which the per-partition watermark rule reads. */
async function eventTimes(t: BatchTracker): Promise<Record<string, string | null>> {
  const r = await db.query<{ k: string; e: string | null }>(`SELECT partition_key AS k, max_event_ms::text AS e FROM ${t.schema}.sluice_source_positions WHERE pipeline_id = 'p' ORDER BY 1`)
  return Object.fromEntries(r.rows.map((row) => [row.k, row.e]))
}

async function positions(t: BatchTracker): Promise<Record<string, string>> {
  return Object.fromEntries((await t.positions('p')).map((p) => [p.partition, p.position]))
}

test('a reset is a batch of its own: positions, a 0-record tracker row with the next id, the state row and a history row, together', async () => {
  const t = await tracker(3)
  const seen: Array<Record<string, string>> = []
  const out = await resetPositions(t, request(), async (stored) => {
    seen.push({ ...stored })
    return { 't/0': '0', 't/2': '7' }
  })
  assert.deepEqual(seen, [{ 't/0': '30', 't/1': '30' }], 'decide sees the stored positions')
  assert.equal(out.applied, true)
  assert.equal(out.batchId, 3)
  assert.equal(out.running, false)
  assert.deepEqual(out.partitions, [
    { partition: 't/0', before: '30', after: '0', changed: true },
    { partition: 't/1', before: '30', after: '30', changed: false },
    { partition: 't/2', before: null, after: '7', changed: true },
  ])
  assert.equal(out.watermarkBefore, 5000)
  assert.equal(out.watermarkAfter, null)
  assert.deepEqual(await positions(t), { 't/0': '0', 't/1': '30', 't/2': '7' })
  assert.deepEqual(
    (await t.positions('p')).map((p) => [p.partition, p.batchId]),
    [['t/0', 3], ['t/1', 2], ['t/2', 3]],
    'moved partitions carry the reset batch id',
  )
  const s = `${t.schema}`
  const { rows: tracked } = await db.query<{ batch_id: string; record_count: string; checkpoint_location: string }>(`SELECT batch_id::text, record_count::text, checkpoint_location FROM ${s}.batch_tracker WHERE pipeline_id = 'p' ORDER BY batch_id`)
  assert.deepEqual(tracked.map((r) => [r.batch_id, r.record_count, r.checkpoint_location]), [['0', '10', '/ckpt'], ['1', '10', '/ckpt'], ['2', '10', '/ckpt'], ['3', '0', '/ckpt']])
  assert.deepEqual(await t.committedState('p'), { batchId: 3, position: { 't/0': '0', 't/1': '30', 't/2': '7' }, watermarkMs: null })
  assert.deepEqual(await eventTimes(t), { 't/0': null, 't/1': null, 't/2': null }, 'the per-partition rule cannot bring the old watermark back')
  const { rows: history } = await db.query<Record<string, unknown>>(`SELECT batch_id::text, target, before_positions, after_positions, watermark_before_ms::text, watermark_after_ms, reset_by, db_user FROM ${s}.sluice_position_resets`)
  assert.deepEqual(history, [
    {
      batch_id: '3',
      target: 'earliest',
      before_positions: { 't/0': '30', 't/2': null },
      after_positions: { 't/0': '0', 't/2': '7' },
      watermark_before_ms: '5000',
      watermark_after_ms: null,
      reset_by: 'tester@host pid 1',
      db_user: 'postgres',
    },
  ])
  // The next reset takes the next id, and null forgets a position.
  const again = await resetPositions(t, request({ keepWatermark: true, target: '{"t/1":null}' }), async () => ({ 't/1': null }))
  assert.equal(again.batchId, 4)
  assert.deepEqual(await positions(t), { 't/0': '0', 't/2': '7' })
})

test('--keep-watermark keeps it; a reset that changes nothing writes nothing', async () => {
  const t = await tracker(2)
  const kept = await resetPositions(t, request({ keepWatermark: true }), async () => ({ 't/0': '5' }))
  assert.equal(kept.watermarkAfter, 5000)
  assert.equal((await t.committedState('p'))?.watermarkMs, 5000)
  assert.deepEqual(await eventTimes(t), { 't/0': '9001', 't/1': '8001' }, 'kept with the watermark')
  const same = await resetPositions(t, request({ keepWatermark: true }), async () => ({ 't/0': '5', 't/1': '20' }))
  assert.equal(same.applied, false)
  assert.equal(same.batchId, 3, 'the id it would have taken')
  assert.equal(await t.lastProcessedBatchId('p'), 2, 'no tracker row for a no-op')
  // Clearing the watermark alone is a change.
  const cleared = await resetPositions(t, request(), async () => ({}))
  assert.equal(cleared.applied, true)
  assert.equal((await t.committedState('p'))?.watermarkMs, null)
})

test('a dry run reports before and after and writes nothing, also on a pipeline that never ran', async () => {
  const t = await tracker(2)
  const dry = await resetPositions(t, request({ dryRun: true }), async () => ({ 't/0': '0', 't/1': '0' }))
  assert.equal(dry.applied, false)
  assert.equal(dry.batchId, 2)
  assert.deepEqual(dry.partitions.map((p) => [p.partition, p.before, p.after]), [['t/0', '20', '0'], ['t/1', '20', '0']])
  assert.deepEqual(await positions(t), { 't/0': '20', 't/1': '20' })
  assert.equal(await t.lastProcessedBatchId('p'), 1)
  const fresh = await tracker(0)
  const first = await resetPositions(fresh, request({ dryRun: true }), async (stored) => {
    assert.deepEqual(stored, {})
    return { 't/0': '3' }
  })
  assert.equal(first.batchId, 0)
  assert.deepEqual(first.partitions, [{ partition: 't/0', before: null, after: '3', changed: true }])
  assert.equal(await fresh.tablesExist(), false, 'a dry run creates no table')
})

test('a pipeline that never ran: created tables (autoCreateTable) and batch 0, or refused without autoCreateTable', async () => {
  const refused = await tracker(0)
  await assert.rejects(resetPositions(refused, request({ createTables: false }), async () => ({ 't/0': '3' })), (err: unknown) => isSluiceError(err, 'RESET_REFUSED') && /run the pipeline once, or set load.autoCreateTable/.test(err.message))
  assert.equal(await refused.tablesExist(), false)
  const t = await tracker(0)
  const out = await resetPositions(t, request(), async () => ({ 't/0': '3' }))
  assert.equal(out.batchId, 0)
  assert.deepEqual(await t.committedState('p'), { batchId: 0, position: { 't/0': '3' }, watermarkMs: null })
})

test('a failure while deciding leaves every position as it was', async () => {
  const t = await tracker(2)
  await assert.rejects(resetPositions(t, request(), async () => {
    throw new Error('broker gone')
  }), /broker gone/)
  assert.deepEqual(await positions(t), { 't/0': '20', 't/1': '20' })
  assert.equal(await t.lastProcessedBatchId('p'), 1)
})

test('partitionMoves lists stored and moved partitions in key order', () => {
  assert.deepEqual(partitionMoves({ b: '1', a: '2' }, { c: null, a: '2' }), [
    { partition: 'a', before: '2', after: '2', changed: false },
    { partition: 'b', before: '1', after: '1', changed: false },
    { partition: 'c', before: null, after: null, changed: false },
  ])
})
