/**
 * autoEvolve on embedded PGlite, through the production commit path (engine/commit.ts): the ALTER
 * is part of the batch transaction, so a batch that fails takes its new column with it, and the
 * writer forgets the table description it had after the ALTER (the next batch adds the column
 * again, instead of writing into a column that does not exist).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSluiceError } from '../../../errors.ts'
import { TestSink, batch, pgliteLoadConfig, tempDir, testContext } from './testing.ts'

test('a column added by a failed batch rolls back with it; the next batch adds it again', async () => {
  const dir = tempDir('sluice-pglite-evolve-')
  const sink = new TestSink(pgliteLoadConfig(dir.path, { autoEvolve: true }), testContext(), { loadSchema: { columns: { id: 'bigint', name: 'text' } } })
  try {
    await sink.open(AbortSignal.timeout(60_000))
    const columns = async (): Promise<string[]> => {
      const r = await sink.tracker.driver.query<{ c: string }>(
        "SELECT attname || ' ' || format_type(atttypid, atttypmod) AS c FROM pg_attribute WHERE attrelid = 'events'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
      )
      return r.rows.map((x) => x.c)
    }
    assert.equal((await sink.write(batch(1, [{ id: 1, name: 'a', score: 1.5 }]))).status, 'committed')
    assert.deepEqual(await columns(), ['id bigint', 'name text', 'score numeric'])

    // No reject handler: the row the server refuses fails the batch, after its ALTER ran.
    await assert.rejects(sink.write(batch(2, [{ id: 2, tags: ['x'] }, { id: 'not-a-number', tags: ['y'] }])), (err) => isSluiceError(err) && err.code === 'RECORD_COLUMN')
    assert.deepEqual(await columns(), ['id bigint', 'name text', 'score numeric'], 'the ALTER rolled back with the batch')

    // The same batch again (as the engine retries it): the column is added again and the good rows land.
    assert.equal((await sink.write(batch(2, [{ id: 2, tags: ['x'] }, { id: 3, tags: ['y'], score: 2 }]))).status, 'committed')
    assert.deepEqual(await columns(), ['id bigint', 'name text', 'score numeric', 'tags jsonb'])
    const rows = await sink.tracker.driver.query('SELECT id::int AS id, name, score::text AS score, tags FROM events ORDER BY id')
    assert.deepEqual(rows.rows, [
      { id: 1, name: 'a', score: '1.5', tags: null },
      { id: 2, name: null, score: null, tags: ['x'] },
      { id: 3, name: null, score: '2', tags: ['y'] },
    ])
  } finally {
    await sink.close()
    dir.remove()
  }
})
