/**
 * An upsert without upsertKeys (the seed's shape) upserts on the table's primary key, or its one
 * unique key, read when the sink opens; without one the sink refuses to open (CONFIG_INVALID naming
 * the table). Against the embedded database (PGlite), through the sink as the engine uses it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../../errors.ts'
import { TestSink, batch, pgliteLoadConfig, tempDir, testContext } from './testing.ts'
import { chooseUpsertKey } from './upsert-keys.ts'

const open = AbortSignal.timeout(60_000)

test('chooseUpsertKey: the primary key, else the one unique key; none or several is CONFIG_INVALID naming the table', () => {
  const t = { schema: 'public', name: 'events' }
  assert.deepEqual(chooseUpsertKey(t, [{ name: 'u', primary: false, columns: ['code'] }, { name: 'pk', primary: true, columns: ['id'] }]), ['id'])
  assert.deepEqual(chooseUpsertKey(t, [{ name: 'u', primary: false, columns: ['a', 'b'] }]), ['a', 'b'])
  assert.throws(() => chooseUpsertKey(t, []), (e) => isSluiceError(e, 'CONFIG_INVALID') && /table public\.events has neither a primary key nor a unique constraint/.test(e.message))
  assert.throws(
    () => chooseUpsertKey(t, [{ name: 'u1', primary: false, columns: ['a'] }, { name: 'u2', primary: false, columns: ['b'] }]),
    (e) => isSluiceError(e, 'CONFIG_INVALID') && /public\.events has no primary key but several unique constraints: u1 \(a\), u2 \(b\)/.test(e.message),
  )
})

test('upsert without upsertKeys: primary key, one unique constraint, or a clear refusal at open', async () => {
  const dir = tempDir()
  try {
    const setup = new TestSink(pgliteLoadConfig(dir.path, { table: 'setup' }), testContext(dir.path), { loadSchema: { columns: { x: 'int' } } })
    await setup.open(open)
    const ddl = [
      'CREATE TABLE by_pk (id bigint, region text, v text, PRIMARY KEY (region, id), UNIQUE (v))',
      'CREATE TABLE by_unique (code text NOT NULL, v text, CONSTRAINT by_unique_code UNIQUE (code))',
      // A partial unique index and a deferrable constraint cannot be ON CONFLICT targets: not keys here.
      'CREATE TABLE no_key (code text, v text, CONSTRAINT later UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)',
      "CREATE UNIQUE INDEX no_key_partial ON no_key (code) WHERE code <> ''",
      'CREATE TABLE two_keys (a int, b int, v text, UNIQUE (a), UNIQUE (b))',
    ]
    for (const sql of ddl) await setup.tracker.driver.query(sql)
    await setup.close()

    const sink = (table: string) => new TestSink(pgliteLoadConfig(dir.path, { table, writeMode: 'upsert' }), testContext(dir.path))

    const pk = sink('by_pk')
    await pk.open(open)
    assert.equal((await pk.write(batch(1, [{ id: 1, region: 'eu', v: 'a' }, { id: 1, region: 'us', v: 'b' }]))).status, 'committed')
    assert.equal((await pk.write(batch(2, [{ id: 1, region: 'eu', v: 'c' }]))).status, 'committed')
    const rows = await pk.readOnlyQuery('SELECT region, id::int AS id, v FROM by_pk ORDER BY region')
    assert.deepEqual(rows.rows, [{ region: 'eu', id: 1, v: 'c' }, { region: 'us', id: 1, v: 'b' }])
    await pk.close()

    const unique = sink('by_unique')
    await unique.open(open)
    // Another pipeline id: batches 1 and 2 of the default one are already committed above.
    assert.equal((await unique.write(batch(1, [{ code: 'x', v: '1' }], { pipelineId: 'unique' }))).status, 'committed')
    assert.equal((await unique.write(batch(2, [{ code: 'x', v: '2' }], { pipelineId: 'unique' }))).status, 'committed')
    assert.deepEqual((await unique.readOnlyQuery('SELECT code, v FROM by_unique')).rows, [{ code: 'x', v: '2' }])
    await unique.close()

    await assert.rejects(sink('no_key').open(open), (e) => isSluiceError(e, 'CONFIG_INVALID') && /table public\.no_key has neither a primary key nor a unique constraint/.test(e.message) && /load\.upsertKeys/.test(e.message))
    await assert.rejects(sink('two_keys').open(open), (e) => isSluiceError(e, 'CONFIG_INVALID') && /two_keys has no primary key but several unique constraints: two_keys_a_key \(a\), two_keys_b_key \(b\)/.test(e.message))
  } finally {
    dir.remove()
  }
})
