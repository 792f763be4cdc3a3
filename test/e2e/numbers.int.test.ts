/**
 * Numbers stay exact, end to end: JSON numbers a double cannot hold (ids past 2^53, 40-digit
 * decimals) land in bigint / numeric(40,20) columns digit for digit, from a Kafka topic (not created
 * beforehand: the test producer's first send creates it) and from an NDJSON file, through the real
 * CLI, in append (with a JSON Schema and a filter on the big id), upsert and aggregate mode; values
 * that do not fit their column are dead letters with RECORD_COLUMN and the original text, never
 * rounded.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

const EXAMPLE = '{"id": 9007199254740993, "amount": 12345678901234567890.12345678901234567890}'

/** Records that fit their columns (what the table must hold, as text) and ones that do not. */
const FITS: readonly (readonly [json: string, id: string, amount: string])[] = [
  [EXAMPLE, '9007199254740993', '12345678901234567890.12345678901234567890'],
  ['{"id": 9223372036854775807, "amount": 99999999999999999999.99999999999999999999}', '9223372036854775807', '99999999999999999999.99999999999999999999'],
  ['{"id": 9007199254740992, "amount": -0.00000000000000000001, "f": 0.1000000000000000055511}', '9007199254740992', '-0.00000000000000000001'],
  ['{"id": 12, "amount": 1.5, "whole": 2147483647, "small": -32768}', '12', '1.50000000000000000000'],
]
const MISFITS: readonly (readonly [json: string, reason: RegExp])[] = [
  ['{"id": 9223372036854775808, "amount": 1}', /out of range for type bigint/],
  ['{"id": 1.5, "amount": 1}', /invalid input syntax for type bigint/],
  ['{"id": 1.0000000000000000001, "amount": 1}', /invalid input syntax for type bigint/],
  ['{"id": 20, "amount": 1e400}', /out of range for numeric\(40,20\).*refused instead of being stored as Infinity/],
  ['{"id": 24, "amount": 1.000000000000000000001}', /more decimal places than numeric\(40,20\) keeps \(scale 20\).*refused instead of being rounded/],
  ['{"id": 25, "amount": 0.125, "f": 1e400}', /out of range for double precision/],
  ['{"id": 21, "amount": 123456789012345678901.5}', /numeric field overflow/],
  ['{"id": 22, "amount": 1, "whole": 2147483648}', /out of range for type integer/],
  ['{"id": 23, "amount": 1, "small": 99999999999999999999}', /out of range for type smallint/],
]

const TABLE = { columns: { id: 'bigint', amount: 'numeric(40,20)', whole: 'integer', small: 'smallint', f: 'double precision' } }
const UPSERT_TABLE = { columns: { id: 'bigint', amount: 'numeric(40,20)' }, primaryKey: ['id'] }
const AGG_TABLE = { columns: { id: 'bigint', n: 'bigint', total: 'numeric(60,20)', top: 'numeric(40,20)' }, primaryKey: ['id'] }
// The JSON Schema sees the numbers as numbers (never as strings or objects).
const RECORD_SCHEMA = { type: 'object', required: ['id', 'amount'], properties: { id: { type: 'number' }, amount: { type: 'number' } } }

type Source = 'kafka' | 'file'

/** Puts `lines` where the pipeline's source reads them: a new Kafka topic, or an NDJSON file. */
async function feed(source: Source, dir: string, lines: readonly string[]): Promise<Record<string, unknown>> {
  if (source === 'kafka') {
    const topic = uniqueTopic('numbers')
    await produce(topic, lines.map((value, i) => ({ key: String(i), value })), { autocreateTopics: true })
    return { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest' } }
  }
  await mkdir(join(dir, 'in'), { recursive: true })
  await writeFile(join(dir, 'in', 'numbers.ndjson'), `${lines.join('\n')}\n`)
  return { sourceType: 'file', path: join(dir, 'in'), format: 'json', pattern: '*.ndjson', stableMs: 0 }
}

async function runPipeline(s: TestSchema, source: Source, lines: readonly string[], shape: { load: Record<string, unknown>; transform?: unknown[]; extractSchema?: string }, files: Record<string, unknown>): Promise<void> {
  const pg = pgSettings()
  const { file, dir } = await writePipeline(
    (d: string) => ({ pipelineId: `numbers-${s.schema}`, mode: 'streaming', streamingConfigJson: { checkpointLocation: join(d, 'checkpoint'), queryName: 'numbers', triggerMode: 'availablenow' } }),
    Object.fromEntries(Object.entries(files).map(([name, content]) => [`${name}.json`, JSON.stringify(content)])),
  )
  const extract = await feed(source, dir, lines)
  const config = {
    pipelineId: `numbers-${s.schema}`,
    mode: 'streaming',
    extract: { ...extract, ...(shape.extractSchema === undefined ? {} : { schemaName: shape.extractSchema }) },
    ...(shape.transform === undefined ? {} : { transform: shape.transform }),
    load: { sinkType: 'postgresql', connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema }, ...shape.load },
    schemaDir: dir,
    streamingConfigJson: { checkpointLocation: join(dir, 'checkpoint'), queryName: 'numbers', triggerMode: 'availablenow', ...(shape.transform?.some((t) => (t as { type: string }).type === 'aggregate') ? { outputMode: 'update' } : {}) },
    errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'numbers_dlq' } },
  }
  await writeFile(file, JSON.stringify(config, null, 2))
  const run = await runSluice(['run', file])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
}

async function textRows(s: TestSchema, sql: string): Promise<string[][]> {
  const { rows } = await s.pool.query<Record<string, string | null>>(sql)
  return rows.map((r) => Object.values(r).map((v) => String(v)))
}

async function deadLetters(s: TestSchema): Promise<{ code: string; reason: string; value: string }[]> {
  const { rows } = await s.pool.query<{ code: string; reason: string; value: Buffer }>(
    'SELECT "sluice.error.code" AS code, "sluice.error.reason" AS reason, value FROM numbers_dlq ORDER BY "sluice.source.offset"',
  )
  return rows.map((r) => ({ code: r.code, reason: r.reason, value: r.value.toString('utf8') }))
}

for (const source of ['kafka', 'file'] as const) {
  describe(`exact numbers from the ${source} source`, () => {
    const schemas: TestSchema[] = []
    after(async () => {
      await Promise.all(schemas.map((s) => s.drop()))
    })
    async function fresh(): Promise<TestSchema> {
      const s = await createTestSchema('num')
      schemas.push(s)
      return s
    }

    test('append: every digit lands; values that do not fit their column are RECORD_COLUMN dead letters, unrounded', async () => {
      const s = await fresh()
      const lines = [...FITS.map(([json]) => json), ...MISFITS.map(([json]) => json)]
      await runPipeline(
        s,
        source,
        lines,
        {
          load: { table: 'numbers', writeMode: 'append', schemaName: 'numbers-table' },
          extractSchema: 'numbers-record',
          // As doubles, 9007199254740993 and 9007199254740992 are one value: this keeps only the exact one.
          transform: [{ type: 'filter', field: 'id', op: 'ne', value: '9007199254740992' }],
        },
        { 'numbers-table': TABLE, 'numbers-record': RECORD_SCHEMA },
      )
      const expected = FITS.filter(([, id]) => id !== '9007199254740992').map(([, id, amount]) => [id, amount])
      assert.deepEqual(await textRows(s, 'SELECT id::text, amount::text FROM numbers ORDER BY id'), expected.sort((a, b) => (BigInt(a[0] as string) < BigInt(b[0] as string) ? -1 : 1)))
      assert.deepEqual(await textRows(s, 'SELECT whole::text, small::text FROM numbers WHERE id = 12'), [['2147483647', '-32768']])
      const dead = await deadLetters(s)
      assert.equal(dead.length, MISFITS.length, JSON.stringify(dead, null, 1))
      dead.forEach((d, i) => {
        const [json, reason] = MISFITS[i] as (typeof MISFITS)[number]
        assert.equal(d.code, 'RECORD_COLUMN', d.reason)
        assert.match(d.reason, reason)
        assert.equal(d.value, json, 'the dead letter keeps the original text')
      })
    })

    test('double precision keeps the usual float behaviour', async () => {
      const s = await fresh()
      await runPipeline(s, source, ['{"id": 1, "amount": 0, "f": 0.1000000000000000055511}', '{"id": 2, "amount": 0, "f": 12345678901234567890.5}'], { load: { table: 'numbers', writeMode: 'append', schemaName: 'numbers-table' } }, { 'numbers-table': TABLE })
      const { rows } = await s.pool.query<{ f: number }>('SELECT f FROM numbers ORDER BY id')
      assert.deepEqual(rows.map((r) => r.f), [0.1, 12345678901234567000])
    })

    test('upsert: keys past 2^53 stay distinct and the last record of each wins', async () => {
      const s = await fresh()
      const lines = [
        EXAMPLE,
        '{"id": 9007199254740992, "amount": 1}',
        '{"id": 9007199254740993, "amount": 12345678901234567890.12345678901234567891}',
        '{"id": 9007199254740994, "amount": 2}',
      ]
      await runPipeline(s, source, lines, { load: { table: 'numbers_u', writeMode: 'upsert', upsertKeys: ['id'], schemaName: 'numbers-u' } }, { 'numbers-u': UPSERT_TABLE })
      assert.deepEqual(await textRows(s, 'SELECT id::text, amount::text FROM numbers_u ORDER BY id'), [
        ['9007199254740992', '1.00000000000000000000'],
        ['9007199254740993', '12345678901234567890.12345678901234567891'],
        ['9007199254740994', '2.00000000000000000000'],
      ])
    })

    test('aggregate: groups keyed by ids past 2^53, sums and max exact to the last digit', async () => {
      const s = await fresh()
      const lines = [EXAMPLE, EXAMPLE, '{"id": 9007199254740992, "amount": 0.00000000000000000001}', '{"id": 9007199254740993, "amount": 0.00000000000000000001}']
      await runPipeline(
        s,
        source,
        lines,
        {
          load: { table: 'numbers_agg', writeMode: 'upsert', upsertKeys: ['id'], schemaName: 'numbers-agg' },
          transform: [{ type: 'aggregate', groupBy: ['id'], aggregations: { n: { fn: 'count' }, total: { fn: 'sum', field: 'amount' }, top: { fn: 'max', field: 'amount' } } }],
        },
        { 'numbers-agg': AGG_TABLE },
      )
      assert.deepEqual(await textRows(s, 'SELECT id::text, n::text, total::text, top::text FROM numbers_agg ORDER BY id'), [
        ['9007199254740992', '1', '0.00000000000000000001', '0.00000000000000000001'],
        ['9007199254740993', '3', '24691357802469135780.24691357802469135781', '12345678901234567890.12345678901234567890'],
      ])
    })
  })
}
