/**
 * The aggregate merge scenario, shared by the real-server test and the PGlite test: partial
 * aggregates of several batches (two partials of one key in one batch too) merge into the stored
 * rows by rule, a replayed batch changes nothing, and a table without the hidden avg columns is
 * refused with SINK_SCHEMA.
 */
import assert from 'node:assert/strict'
import type { RowValues } from '../../../api/record.ts'
import type { MergeRule } from '../../../api/writer.ts'
import { isSluiceError } from '../../../errors.ts'
import type { LoadSchema } from './columns.ts'
import type { PostgresLoadConfig } from './config.ts'
import type { PostgresSinkOptions } from './index.ts'
import { type TestBatch, TestSink, batch } from './testing.ts'

/** Opens a sink on the fixture's database (the table is `events`). */
export type OpenSink = (overrides: Partial<PostgresLoadConfig>, options?: PostgresSinkOptions) => Promise<TestSink>

export const MERGE: Readonly<Record<string, MergeRule>> = { n: 'count', s: 'sum', lo: 'min', hi: 'max', mean__sum: 'sum', mean__count: 'count', mean: 'avg' }

export const AGG_SCHEMA: LoadSchema = {
  columns: { k: 'text', n: 'bigint', s: 'numeric', lo: 'numeric', hi: 'numeric', mean: 'double precision', mean__sum: 'numeric', mean__count: 'bigint', note: 'text' },
  primaryKey: ['k'],
}

const UPSERT: Partial<PostgresLoadConfig> = { writeMode: 'upsert', upsertKeys: ['k'] }

function aggBatch(batchId: number, rows: readonly RowValues[]): TestBatch {
  return { ...batch(batchId, rows), merge: MERGE }
}

/** Runs the merge scenario against `open`; `table` is how a query names the `events` table. */
export async function mergeScenario(open: OpenSink, table = 'events'): Promise<void> {
  const SELECT = `SELECT k, n::text, s::text, lo::text, hi::text, mean::text, mean__sum::text, mean__count::text, note FROM ${table} ORDER BY k`
  const sink = await open(UPSERT, { loadSchema: AGG_SCHEMA })
  const b1 = aggBatch(1, [
    { k: 'a', n: 2, s: '3.5', lo: 1, hi: 2.5, mean: 1.75, mean__sum: '3.5', mean__count: 2, note: 'first' },
    { k: 'b', n: 1, s: null, lo: null, hi: null, mean: null, mean__sum: null, mean__count: 0, note: 'first' },
  ])
  const b2 = aggBatch(2, [
    { k: 'a', n: 1, s: '0.1', lo: 0.5, hi: 2, mean: 0.1, mean__sum: '0.1', mean__count: 1, note: 'second' },
    { k: 'b', n: 1, s: '4', lo: 4, hi: 4, mean: 4, mean__sum: '4', mean__count: 1, note: 'second' },
    // Two partials of one key in one batch (e.g. 1 and "1" grouped apart upstream) combine first.
    { k: 'c', n: 1, s: '1', lo: 1, hi: 1, mean: 1, mean__sum: '1', mean__count: 1, note: 'c1' },
    { k: 'c', n: 2, s: '2', lo: 0, hi: 2, mean: 1, mean__sum: '2', mean__count: 2, note: 'c2' },
  ])
  assert.equal((await sink.write(b1)).status, 'committed')
  assert.equal((await sink.write(b2)).status, 'committed')
  const expected = [
    { k: 'a', n: '3', s: '3.6', lo: '0.5', hi: '2.5', mean: '1.2', mean__sum: '3.6', mean__count: '3', note: 'second' },
    { k: 'b', n: '2', s: '4', lo: '4', hi: '4', mean: '4', mean__sum: '4', mean__count: '1', note: 'second' },
    { k: 'c', n: '3', s: '3', lo: '0', hi: '2', mean: '1', mean__sum: '3', mean__count: '3', note: 'c2' },
  ]
  assert.deepEqual((await sink.readOnlyQuery(SELECT)).rows, expected)
  // Exactly once: the replayed batch is a duplicate and nothing is merged twice.
  assert.equal((await sink.write(b2)).status, 'duplicate')
  assert.deepEqual((await sink.readOnlyQuery(SELECT)).rows, expected)
  await sink.close()

  // Without the hidden avg pair the merge cannot run: a clear, non-retryable schema error.
  const bare = await open({ ...UPSERT, table: 'bare' }, { loadSchema: { columns: { k: 'text', mean: 'double precision' }, primaryKey: ['k'] } })
  const noPair = { ...batch(3, [{ k: 'a', mean: 1, mean__sum: '1', mean__count: 1 }], { pipelineId: 'other' }), merge: { mean__sum: 'sum', mean__count: 'count', mean: 'avg' } } satisfies TestBatch
  await assert.rejects(bare.write(noPair), (e: unknown) => isSluiceError(e, 'SINK_SCHEMA') && /has no column mean__sum/.test(e.message) && !e.retryable)
  await bare.close()

  // Merge rules need an upsert (a first batch of its own pipeline: the fence lets it through to the writer).
  const append = await open({ table: 'events' }, { loadSchema: AGG_SCHEMA })
  await assert.rejects(append.write({ ...batch(1, [{ k: 'z', n: 1 }], { pipelineId: 'append-only' }), merge: MERGE }), (e: unknown) => isSluiceError(e, 'CONFIG_INVALID') && /needs writeMode upsert/.test(e.message))
  await append.close()
}
