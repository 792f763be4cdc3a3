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

test('without a load schema a missing table is created from its first records, in the batch transaction', async () => {
  const dir = tempDir('sluice-pglite-create-')
  const sink = new TestSink(pgliteLoadConfig(dir.path, { autoEvolve: true, writeMode: 'upsert', upsertKeys: ['id'] }), testContext())
  try {
    await sink.open(AbortSignal.timeout(60_000))
    const exists = async (): Promise<boolean> => (await sink.tracker.driver.query<{ t: string | null }>("SELECT to_regclass('events')::text AS t")).rows[0]?.t !== null
    // Deletes only, before the table exists: nothing to delete, nothing created.
    assert.equal((await sink.write(batch(1, [], { deletes: [{ id: 7 }] }))).status, 'committed')
    assert.equal(await exists(), false)
    // A batch that fails takes the table it created with it (text cannot hold a NUL character).
    await assert.rejects(sink.write(batch(2, [{ id: 1, name: 'a' }, { id: 2, name: 'a\u0000b' }])), (err) => isSluiceError(err) && err.code === 'RECORD_COLUMN')
    assert.equal(await exists(), false, 'the CREATE TABLE rolled back with the batch')
    // Metadata fields the engine adds while the columns are unknown (key, topic, _metadata.offset) get no column.
    assert.equal((await sink.write(batch(2, [{ id: 1, name: 'a', key: 'k1', topic: 't', '_metadata.offset': 0 }, { id: 2, name: null, score: 1.5 }]))).status, 'committed')
    const cols = await sink.tracker.driver.query<{ c: string }>(
      "SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS c FROM pg_attribute WHERE attrelid = 'events'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    )
    assert.deepEqual(cols.rows.map((r) => r.c), ['id bigint not null', 'name text', 'score numeric'])
    const pk = await sink.tracker.driver.query<{ k: string }>("SELECT a.attname AS k FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'events'::regclass AND i.indisprimary")
    assert.deepEqual(pk.rows.map((r) => r.k), ['id'], 'the upsert key is the primary key')
    // An upsert into it, and a new field later evolves it.
    assert.equal((await sink.write(batch(3, [{ id: 1, name: 'A', tags: ['t'] }]))).status, 'committed')
    const rows = await sink.tracker.driver.query('SELECT id::int AS id, name, score::text AS score, tags FROM events ORDER BY id')
    assert.deepEqual(rows.rows, [
      { id: 1, name: 'A', score: null, tags: ['t'] },
      { id: 2, name: null, score: '1.5', tags: null },
    ])
  } finally {
    await sink.close()
    dir.remove()
  }
})

test('creating from records needs the upsert key among their fields', async () => {
  const dir = tempDir('sluice-pglite-create-key-')
  const sink = new TestSink(pgliteLoadConfig(dir.path, { autoEvolve: true, writeMode: 'upsert', upsertKeys: ['id'] }), testContext())
  try {
    await sink.open(AbortSignal.timeout(60_000))
    await assert.rejects(sink.write(batch(1, [{ name: 'a' }])), (err) => isSluiceError(err) && err.code === 'SINK_SCHEMA' && /upsert key id has no value/.test(err.message))
  } finally {
    await sink.close()
    dir.remove()
  }
})

test('without autoEvolve a missing table without a load schema is still an error, naming how to create it', async () => {
  const dir = tempDir('sluice-pglite-create-off-')
  const sink = new TestSink(pgliteLoadConfig(dir.path), testContext())
  try {
    await sink.open(AbortSignal.timeout(60_000))
    await assert.rejects(sink.write(batch(1, [{ id: 1 }])), (err) => isSluiceError(err) && err.code === 'SINK_SCHEMA' && /does not exist.*with autoEvolve it is created from its first records/.test(err.message))
  } finally {
    await sink.close()
    dir.remove()
  }
})
