/**
 * A field or column named `__proto__` (or `constructor`) is data like any other: it survives decode,
 * select, rename and cast and the COPY into a real PostgreSQL, and a record without it writes NULL,
 * never something inherited from Object.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

test('__proto__ and constructor fields through decode, select, rename, cast and COPY; absent means NULL', async () => {
  const s = await createTestSchema('proto')
  schemas.push(s)
  await s.pool.query('CREATE TABLE t (id bigint PRIMARY KEY, "__proto__" text, "constructor" text, n int)')
  const pg = pgSettings()
  const { file, dir } = await writePipeline((d: string) => ({
    pipelineId: 'proto-fields',
    mode: 'streaming',
    extract: { sourceType: 'file', path: join(d, 'in'), format: 'json', pattern: '*.ndjson', stableMs: 0 },
    transform: [
      { type: 'select', columns: ['id', '__proto__', 'constructor', 'n', 'renamed'] },
      { type: 'rename', mapping: { renamed: '__proto__' } },
      { type: 'cast', columns: { n: 'int' } },
    ],
    load: { sinkType: 'postgresql', table: 't', connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema } },
    streamingConfigJson: { checkpointLocation: join(d, 'checkpoint'), queryName: 'proto-fields', triggerMode: 'availablenow' },
  }))
  await mkdir(join(dir, 'in'))
  const lines = [
    '{"id":1,"__proto__":"a","constructor":"c1","n":"5"}',
    '{"id":2}',
    '{"id":3,"__proto__":{"x":1},"n":7}',
    '{"id":4,"renamed":"from-rename"}',
  ]
  await writeFile(join(dir, 'in', 'a.ndjson'), `${lines.join('\n')}\n`)
  const r = await runSluice(['run', file])
  assert.equal(r.code, 0, r.stderr.slice(-3000))
  const { rows } = await s.pool.query<{ id: string; p: string | null; c: string | null; n: number | null }>('SELECT id, "__proto__" AS p, "constructor" AS c, n FROM t ORDER BY id')
  assert.deepEqual(rows, [
    { id: '1', p: 'a', c: 'c1', n: 5 },
    { id: '2', p: null, c: null, n: null },
    { id: '3', p: '{"x":1}', c: null, n: 7 },
    { id: '4', p: 'from-rename', c: null, n: null },
  ])
})
