/** Rows left unparsed are written byte for byte as their parsed values would be (issue 13). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Row, RowValues, SourceRecord } from '../../../api/record.ts'
import { decodeValues } from '../../../engine/decode.ts'
import { scanFlat } from '../../../engine/flat-json.ts'
import { eventText, random } from '../../../engine/flat-json.testkit.ts'
import { FlatRow } from '../../../engine/flat-row.ts'
import { fitRules, refuseMisfits } from './column-fit.ts'
import { CopyChunk } from './copy-chunk.ts'
import { encodeTableRows } from './copy-encode.ts'
import { flatColumn, flatLineBound, writeFlatLine } from './copy-flat.ts'
import { copyColumns, type TableColumn, type TableInfo } from './columns.ts'

const col = (name: string, type: string, udt: string, category: string, hasDefault = false): TableColumn => ({ name, type, udt, category, hasDefault, notNull: false, generated: false })

/** Every column type the encoders tell apart, names the events use in several cases, and columns with defaults. */
const TABLE: TableInfo = {
  schema: 's',
  name: 't',
  quoted: '"s"."t"',
  columns: [
    col('id', 'bigint', 'int8', 'N'),
    col('name', 'text', 'text', 'S'),
    col('amount', 'numeric(10,2)', 'numeric', 'N'),
    col('price', 'double precision', 'float8', 'N'),
    col('at', 'timestamp with time zone', 'timestamptz', 'D'),
    col('day', 'date', 'date', 'D'),
    col('doc', 'jsonb', 'jsonb', 'U'),
    col('tags', 'text[]', '_text', 'A'),
    col('raw', 'bytea', 'bytea', 'U'),
    col('flag', 'boolean', 'bool', 'B'),
    col('note', 'character varying(40)', 'varchar', 'S', true),
    col('ñame', 'text', 'text', 'S'),
    col('__proto__', 'text', 'text', 'S'),
    col('1', 'integer', 'int4', 'N', true),
    col('extra', 'json', 'json', 'U', true),
    col('x y', 'numeric(6,-1)', 'numeric', 'N'),
    col('key', 'text', 'text', 'S'),
  ],
}

function record(value: Buffer, offset: number): SourceRecord {
  return { partition: 't/0', topic: 't', partitionNumber: 0, offset: String(offset), key: null, value, timestamp: 0, headers: [] }
}

/** The same events as rows left unparsed and as parsed rows (events the scan leaves to the decode are skipped). */
function rows(seed: number, count: number): { flat: Row[]; parsed: Row[] } {
  const rnd = random(seed)
  const flat: Row[] = []
  const parsed: Row[] = []
  while (flat.length < count) {
    const bytes = Buffer.from(eventText(rnd), 'utf8')
    const f = scanFlat(bytes)
    if (f === null) continue
    const source = record(bytes, flat.length)
    flat.push(new FlatRow(source, f))
    parsed.push({ values: decodeValues(source) as RowValues, source })
  }
  return { flat, parsed }
}

const text = (chunks: Iterable<Buffer>): string => Buffer.concat([...chunks]).toString('utf8')

test('COPY text of rows left unparsed is byte for byte that of their parsed values, every column type, chunked and with ordinals', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const { flat, parsed } = rows(seed, 500)
    const rnd = random(seed * 7)
    const columns = copyColumns(TABLE, parsed)
    assert.deepEqual(copyColumns(TABLE, flat).map((c) => c.name), columns.map((c) => c.name), `seed ${seed}`)
    const limits = { rows: 1 + Math.floor(rnd() * 50), chars: 64 + Math.floor(rnd() * 4096) }
    const ordinal = rnd() < 0.5
    const lo = Math.floor(rnd() * 10)
    const expected = text(encodeTableRows(parsed, columns, lo, parsed.length, limits, ordinal))
    const chunks = [...encodeTableRows(rows(seed, 500).flat, columns, lo, flat.length, limits, ordinal)]
    for (const c of chunks) assert.equal(c.at(-1), 0x0a, 'a chunk ends at a line end')
    // The first line that differs, not a diff of the whole text.
    const got = text(chunks).split('\n')
    const want = expected.split('\n')
    const at = want.findIndex((line, i) => got[i] !== line)
    assert.equal(at === -1 ? null : got[at], at === -1 ? null : want[at], `seed ${seed}, line ${at} of ${(parsed[lo + at]?.source.value as Buffer | undefined)?.toString()}`)
    assert.equal(got.length, want.length)
  }
})

test('most random events are copied from their bytes (the test above compares the fast path, not only the fallback)', () => {
  const { flat } = rows(99, 2000)
  const columns = copyColumns(TABLE, flat).map((c) => flatColumn(c.name, c.flat as NonNullable<typeof c.flat>))
  const hints = new Int32Array(columns.length)
  const chunk = new CopyChunk(1 << 20)
  let copied = 0
  for (const row of flat) {
    const f = row.flat as NonNullable<Row['flat']>
    chunk.reserve(flatLineBound(f, columns.length))
    const before = chunk.length
    if (writeFlatLine(chunk, f, columns, hints)) copied++
    else assert.equal(chunk.length, before, 'a line given up leaves nothing behind')
  }
  assert.ok(copied > 300 && copied < 2000, `${copied} of 2000 copied`)
})

test('a plain load of ASCII events copies every row and never parses one', () => {
  const events = Array.from({ length: 1000 }, (_, i) => `{"id":${i},"name":"n${i}","amount":${i}.25,"price":${i / 8},"at":"2026-01-01T00:00:00Z","doc":"d","flag":${i % 2 === 0},"note":null}`)
  const flat = events.map((e, i) => {
    const source = record(Buffer.from(e), i)
    const row = new FlatRow(source, scanFlat(source.value as Buffer) as NonNullable<Row['flat']>)
    // Reading the values here would be a parse the fast path exists to avoid.
    Object.defineProperty(row, 'values', { get: () => assert.fail(`row ${i} was parsed`) })
    return row
  })
  const columns = copyColumns(TABLE, flat)
  assert.equal(refuseMisfits(TABLE, flat, fitRules(TABLE.columns)).refused.length, 0)
  const lines = text(encodeTableRows(flat, columns, 0, flat.length)).split('\n')
  assert.equal(lines[3], '3\tn3\t3.25\t0.375\t2026-01-01T00:00:00Z\t\\N\t"d"\t\\N\t\\N\tfalse\t\\N\t\\N\t\\N\t\\N\t\\N')
})

test('rows left unparsed are refused for the same values, with the same reasons, as parsed rows', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const { flat, parsed } = rows(100 + seed, 1000)
    const rules = fitRules(TABLE.columns)
    const a = refuseMisfits(TABLE, parsed, rules)
    const b = refuseMisfits(TABLE, flat, rules)
    assert.ok(a.refused.length > 0, 'the events have misfits')
    assert.deepEqual(b.refused.map((r) => [r.row.source.offset, r.error.message]), a.refused.map((r) => [r.row.source.offset, r.error.message]))
    assert.deepEqual(b.fit.map((r) => r.source.offset), a.fit.map((r) => r.source.offset))
  }
})
