import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { embeddedDataDir } from './connection.ts'
import { TestSink, batch, pgliteLoadConfig, tempDir, testContext } from './testing.ts'

test('embedded data folder: pglite://<folder> relative to the pipeline, or <baseDir>/.sluice/pgdata', () => {
  const base = pgliteLoadConfig('data')
  assert.equal(embeddedDataDir(base, '/p'), '/p/data')
  assert.equal(embeddedDataDir(pgliteLoadConfig('/abs/x'), '/p'), '/abs/x')
  assert.equal(embeddedDataDir({ ...base, embedded: true, connectionParams: {} }, '/p'), join('/p', '.sluice', 'pgdata'))
  assert.equal(embeddedDataDir({ ...base, connectionParams: { host: 'h' } }, '/p'), null)
})

test('embedded: true keeps its data across reopen, and two sinks share one instance', async () => {
  const dir = tempDir()
  try {
    const config = { ...pgliteLoadConfig('unused'), embedded: true, connectionParams: {} }
    const loadSchema = { columns: { id: 'bigint', v: 'text' }, primaryKey: ['id'] }
    const a = new TestSink(config, testContext(dir.path), { loadSchema })
    const b = new TestSink(config, testContext(dir.path), { loadSchema })
    await a.open(AbortSignal.timeout(60_000))
    await b.open(AbortSignal.timeout(60_000))
    assert.equal((await a.write(batch(1, [{ id: 1, v: 'x' }]))).status, 'committed')
    assert.equal((await b.write(batch(1, [{ id: 1, v: 'x' }]))).status, 'duplicate')
    await a.close()
    await b.close()
    assert.ok(existsSync(join(dir.path, '.sluice', 'pgdata', 'PG_VERSION')))
    const c = new TestSink(config, testContext(dir.path), { loadSchema })
    await c.open(AbortSignal.timeout(60_000))
    assert.deepEqual(await c.committedState('test-pipeline'), { batchId: 1, position: { 't/0': '1000' }, watermarkMs: null })
    assert.equal((await c.readStatus('test-pipeline')).lastBatchId, 1)
    const q = await c.readOnlyQuery('SELECT id, v FROM events WHERE false')
    assert.deepEqual(q, { rows: [], columns: ['id', 'v'] })
    await assert.rejects(c.readOnlyQuery('DELETE FROM events'), (e: unknown) => e instanceof Error && /read-only/.test(e.message))
    await c.close()
  } finally {
    dir.remove()
  }
})
