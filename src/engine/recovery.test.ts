import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nullLogger } from '../api/component.ts'
import { SluiceError } from '../errors.ts'
import { CheckpointLog } from './checkpoint.ts'
import { resolveResumePoint } from './recovery.ts'

async function log(): Promise<CheckpointLog> {
  const c = new CheckpointLog(join(await mkdtemp(join(tmpdir(), 'sluice-rec-')), 'ckpt'))
  await c.init('p')
  return c
}

test('first start: batch 0 from nothing', async () => {
  const r = await resolveResumePoint(null, await log(), true, nullLogger)
  assert.deepEqual(r, { nextBatchId: 0, position: {}, watermarkMs: null, replay: null })
})

test('exactly-once: the database is the authority; a lost checkpoint folder resumes from it', async () => {
  const r = await resolveResumePoint({ batchId: 4, position: { 't/0': '50' }, watermarkMs: 77 }, await log(), true, nullLogger)
  assert.deepEqual(r, { nextBatchId: 5, position: { 't/0': '50' }, watermarkMs: 77, replay: null })
})

test('a planned batch without a commit is replayed unchanged', async () => {
  const c = await log()
  await c.writePlanned({ batchId: 5, start: { 't/0': '50' }, end: { 't/0': '60' }, watermarkMs: 77, plannedAt: 'x' })
  const r = await resolveResumePoint({ batchId: 4, position: { 't/0': '50' }, watermarkMs: 77 }, c, true, nullLogger)
  assert.equal(r.replay?.batchId, 5)
  assert.deepEqual(r.replay?.end, { 't/0': '60' })
})

test('the database committed but commits/N is missing: the marker is repaired, no replay', async () => {
  const c = await log()
  await c.writePlanned({ batchId: 5, start: { 't/0': '50' }, end: { 't/0': '60' }, watermarkMs: null, plannedAt: 'x' })
  const r = await resolveResumePoint({ batchId: 5, position: { 't/0': '60' }, watermarkMs: null }, c, true, nullLogger)
  assert.equal(r.replay, null)
  assert.equal(r.nextBatchId, 6)
  assert.equal((await c.latestCommitted())?.batchId, 5)
})

test('a checkpoint that committed batches the database never saw is refused', async () => {
  const c = await log()
  await c.writeCommitted({ batchId: 3, nextWatermarkMs: null, end: { 't/0': '9' } })
  await assert.rejects(resolveResumePoint(null, c, true, nullLogger), (e: unknown) => e instanceof SluiceError && e.code === 'CHECKPOINT_CORRUPT')
})

test('a checkpoint of another pipeline is refused', async () => {
  const c = await log()
  await assert.rejects(new CheckpointLog(c.location).init('other'), (e: unknown) => e instanceof SluiceError && e.code === 'CHECKPOINT_CORRUPT')
})

test('at-least-once: the checkpoint commits are the authority', async () => {
  const c = await log()
  await c.writeCommitted({ batchId: 2, nextWatermarkMs: 5, end: { 't/0': '30' } })
  const r = await resolveResumePoint(null, c, false, nullLogger)
  assert.deepEqual(r, { nextBatchId: 3, position: { 't/0': '30' }, watermarkMs: 5, replay: null })
})

test('after sluice reset (a committed batch of its own): a plan the log made before it is never replayed; the database positions win', async () => {
  const c = await log()
  // Batches 0-4 committed at t/0=50; batch 5 was planned from 50 and the process died; then a reset
  // to offset 10 took batch id 5 in the database.
  await c.writeCommitted({ batchId: 4, nextWatermarkMs: 77, end: { 't/0': '50' } })
  await c.writePlanned({ batchId: 5, start: { 't/0': '50' }, end: { 't/0': '60' }, watermarkMs: 77, plannedAt: 'x' })
  const r = await resolveResumePoint({ batchId: 5, position: { 't/0': '10' }, watermarkMs: null }, c, true, nullLogger)
  assert.deepEqual(r, { nextBatchId: 6, position: { 't/0': '10' }, watermarkMs: null, replay: null })
  assert.deepEqual(await c.latestCommitted(), { batchId: 5, nextWatermarkMs: null, end: { 't/0': '10' } }, 'the commit marker follows the database')
  // Without the stale plan (the last run stopped cleanly) it is the same.
  const clean = await log()
  await clean.writePlanned({ batchId: 4, start: { 't/0': '40' }, end: { 't/0': '50' }, watermarkMs: 77, plannedAt: 'x' })
  await clean.writeCommitted({ batchId: 4, nextWatermarkMs: 77, end: { 't/0': '50' } })
  const r2 = await resolveResumePoint({ batchId: 5, position: { 't/0': '10' }, watermarkMs: null }, clean, true, nullLogger)
  assert.deepEqual(r2, { nextBatchId: 6, position: { 't/0': '10' }, watermarkMs: null, replay: null })
})
