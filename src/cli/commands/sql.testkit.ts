/**
 * The `sluice sql` safety cases, run through the CLI against embedded PGlite (sql.test.ts) and a
 * PostgreSQL server (sql.int.test.ts) alike. The database holds a mixed-case schema S with table t
 * (3 rows, one with bytea) and its lower-case twin s.t (1 row), so that a schema name folded to
 * lower case shows as a wrong count.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runSluice } from '../../../test/helpers/cli.ts'

export interface SqlTarget {
  /** The pipeline file (its load names the database and `currentSchema`). */
  readonly file: string
  /** Rows of S.t, read behind the CLI's back. */
  count(): Promise<number>
}

/** Statements that seed the database; `upper` is the mixed-case schema, `lower` its twin. */
export function seedSql(upper: string, lower: string): string[] {
  return [
    `CREATE SCHEMA "${upper}"`,
    `CREATE SCHEMA "${lower}"`,
    `CREATE TABLE "${upper}".t (id int PRIMARY KEY, b bytea)`,
    `INSERT INTO "${upper}".t VALUES (1, '\\x0102ff'::bytea), (2, NULL), (3, NULL)`,
    `CREATE TABLE "${lower}".t (id int PRIMARY KEY, b bytea)`,
    `INSERT INTO "${lower}".t VALUES (1, NULL)`,
  ]
}

interface JsonError {
  ok: false
  error: { code: string; message: string }
}

/** Registers the cases; `target` is ready when the tests run (set up in `before`). */
export function sqlSafetyCases(target: () => SqlTarget): void {
  const sql = (query: string, ...flags: string[]) => runSluice(['sql', target().file, query, ...flags])

  test('several statements are refused before anything runs: "COMMIT; DELETE" deletes nothing', async () => {
    for (const query of ['COMMIT; DELETE FROM t', "SELECT 'x' ; /* c */ DELETE FROM t;"]) {
      const r = await sql(query)
      assert.equal(r.code, 1, `${query}: ${r.stdout}${r.stderr}`)
      assert.match(r.stderr, /QUERY_REFUSED: the query holds 2 statements/, query)
    }
    assert.equal(await target().count(), 3)
  })

  test('writes, transaction control, COPY, DO and SET are refused with a clear message, exit 1', async () => {
    const refused = ['DELETE FROM t', 'COMMIT', "COPY t TO PROGRAM 'true'", '/* x */ do $$ BEGIN DELETE FROM t; END $$']
    for (const query of refused) {
      const r = await sql(query, '--json')
      assert.equal(r.code, 1, query)
      const out = JSON.parse(r.stdout) as JsonError
      assert.equal(out.error.code, 'QUERY_REFUSED', query)
      assert.match(out.error.message, /is refused: sluice sql runs one SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW statement in a read-only transaction/)
    }
    // A write hidden where the keyword check cannot see it is stopped by the READ ONLY transaction.
    for (const query of ['WITH d AS (DELETE FROM t RETURNING id) SELECT count(*) FROM d', 'EXPLAIN ANALYZE DELETE FROM t']) {
      const r = await sql(query)
      assert.equal(r.code, 1, query)
      // (PostgreSQL names the statement: SELECT for the CTE, DELETE for EXPLAIN ANALYZE.)
      assert.match(r.stderr, /QUERY_REFUSED: cannot execute (SELECT|DELETE) in a read-only transaction \(SQLSTATE 25006\)/, r.stderr)
    }
    assert.equal(await target().count(), 3)
  })

  test('a semicolon or keyword inside a string, identifier, comment or dollar quote is no second statement', async () => {
    const r = await sql(`SELECT 'a;b' AS "x;y", $q$; DELETE FROM t$q$ AS d, E'it\\'s; fine' AS e -- ; DELETE\n;`, '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), [{ 'x;y': 'a;b', d: '; DELETE FROM t', e: "it's; fine" }])
  })

  test('the schema is used exactly (case kept); two columns of one name are both shown; --json prints bytea as \\x hex', async () => {
    // n counts the mixed-case schema's t (3 rows), not its lower-case twin's (1 row).
    const query = 'SELECT 1 AS x, 2 AS x, 3 AS x_2, b, (SELECT count(*)::int FROM t) AS n FROM t WHERE id = 1'
    const json = await sql(query, '--json')
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(JSON.parse(json.stdout), [{ x: 1, x_3: 2, x_2: 3, b: '\\x0102ff', n: 3 }])
    const table = await sql(query)
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^x \| x \| x_2 \| b +\| n\n-+-\+-+-\+-+-\+-+-\+-+\n1 \| 2 \| 3 +\| \\x0102ff \| 3\n\(1 row\)/)
  })

  test('a failing query has its own code (QUERY_FAILED) with the server message, not CONFIG_INVALID', async () => {
    const r = await sql('SELECT nope FROM t', '--json')
    assert.equal(r.code, 1)
    const out = JSON.parse(r.stdout) as JsonError
    assert.equal(out.error.code, 'QUERY_FAILED')
    assert.match(out.error.message, /column "nope" does not exist \(SQLSTATE 42703\)/)
    const text = await sql('SELECT (1')
    assert.equal(text.code, 1)
    assert.match(text.stderr, /^sluice: QUERY_FAILED: .*syntax error at end of input \(SQLSTATE 42601\)/m)
  })
}
