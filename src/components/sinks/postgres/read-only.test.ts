import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../../errors.ts'
import { createPgliteDriver } from './driver-pglite.ts'
import { checkReadOnly, readOnlyQuery, rowObjects, statements } from './read-only.ts'

test('statements: semicolons split only outside strings, identifiers, comments and dollar quotes', () => {
  assert.deepEqual(statements('SELECT 1'), ['SELECT 1'])
  assert.deepEqual(statements(' SELECT 1 ;  ; -- x\n'), ['SELECT 1'])
  assert.deepEqual(statements('COMMIT; DELETE FROM t'), ['COMMIT', 'DELETE FROM t'])
  assert.deepEqual(statements(`SELECT 'a;''b' , "c;""d" /* ; /* nested ; */ ; */ , $x$ ; $x$, $$;$$`).length, 1)
  assert.deepEqual(statements(`SELECT E'\\'; DELETE FROM t'`).length, 1, "E'' string with an escaped quote")
  assert.deepEqual(statements(`SELECT 'x\\'; DELETE FROM t`).length, 2, 'a backslash does not escape in a standard string')
  assert.deepEqual(statements('SELECT $1; DELETE FROM t').length, 2, '$1 is no dollar quote')
})

test('checkReadOnly: one statement with a read-only leading keyword, else QUERY_REFUSED', () => {
  for (const ok of ['select 1', '  /* c */ WITH a AS (SELECT 1) SELECT * FROM a', 'VALUES (1)', 'TABLE t', 'EXPLAIN SELECT 1', 'SHOW search_path', '(SELECT 1) UNION (SELECT 2)']) {
    assert.doesNotThrow(() => checkReadOnly(ok), ok)
  }
  for (const bad of ['', ' ; ', 'COMMIT; DELETE FROM t', 'DELETE FROM t', 'copy t to stdout', 'SET search_path = x', 'LOAD $$x$$', 'PREPARE p AS DELETE FROM t', 'EXECUTE p']) {
    assert.throws(() => checkReadOnly(bad), (e: unknown) => isSluiceError(e, 'QUERY_REFUSED'), bad)
  }
})

test('rowObjects keeps every column: a repeated name gets the next free _n', () => {
  assert.deepEqual(rowObjects({ columns: ['a', 'a', 'a_2', 'a'], rows: [[1, 2, 3, 4]] }), [{ a: 1, a_3: 2, a_2: 3, a_4: 4 }])
})

test('PGlite: the extended protocol refuses a second statement even past the keyword check', async () => {
  const db = createPgliteDriver(undefined)
  try {
    await db.query('CREATE TABLE t (id int)')
    await db.query('INSERT INTO t VALUES (1)')
    await assert.rejects(
      db.transaction((tx) => tx.queryArrays('SELECT 1; DELETE FROM t')),
      (e: unknown) => e instanceof Error && /multiple commands/.test(e.message),
    )
    const r = await readOnlyQuery(db, 'SELECT id, id FROM t', 'public')
    assert.deepEqual(r, { columns: ['id', 'id'], rows: [[1, 1]] })
    await assert.rejects(readOnlyQuery(db, 'WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d', 'public'), (e: unknown) => isSluiceError(e, 'QUERY_REFUSED'))
    assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]?.n, 1)
  } finally {
    await db.close()
  }
})
