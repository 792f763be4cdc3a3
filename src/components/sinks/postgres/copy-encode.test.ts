import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseJson } from '../../../engine/exact-number.ts'
import { encodeArray, encodeBytea, encodeGeneric, encodeJson, encodeRows, encodeTime, encoderFor, escapeCopy, fieldReader, fieldValue, type CopyColumn } from './copy-encode.ts'

test('escapeCopy escapes backslash, tab, newline and carriage return only', () => {
  assert.equal(escapeCopy('plain é 🦀'), 'plain é 🦀')
  assert.equal(escapeCopy('a\tb\nc\rd\\e'), 'a\\tb\\nc\\rd\\\\e')
  assert.equal(escapeCopy('\\N'), '\\\\N')
})

test('value encoders by column type', () => {
  assert.equal(encodeGeneric(1.5), '1.5')
  assert.equal(encodeGeneric(Number.NaN), 'NaN')
  assert.equal(encodeGeneric(Number.NEGATIVE_INFINITY), '-Infinity')
  assert.equal(encodeGeneric(12n), '12')
  assert.equal(encodeGeneric(true), 'true')
  assert.equal(encodeGeneric(new Date(0)), '1970-01-01T00:00:00.000Z')
  assert.equal(encodeGeneric({ a: 'x\ny' }), '{"a":"x\\\\ny"}')
  assert.equal(encodeJson('s'), '"s"')
  assert.equal(encodeJson({ n: 1n }), '{"n":"1"}')
  assert.equal(encodeJson(Buffer.from('{"raw":true}')), '{"raw":true}')
  assert.equal(encodeBytea(Buffer.from([0, 255])), '\\\\x00ff')
  assert.equal(encodeTime(0), '1970-01-01T00:00:00.000Z')
  assert.equal(encodeTime('2026-01-01'), '2026-01-01')
  assert.equal(encodeArray(['a', null, 'b"c', ['d']]), '{"a",NULL,"b\\\\"c",{"d"}}')
})

test('fieldValue matches exactly, then case-insensitively', () => {
  assert.equal(fieldValue({ Name: 1, name: 2 }, 'name', 'name'), 2)
  assert.equal(fieldValue({ NAME: 1 }, 'name', 'name'), 1)
  assert.equal(fieldValue({}, 'toString', 'tostring'), undefined)
})

test('fieldReader reads what fieldValue reads, inherited names included', () => {
  const records: Record<string, unknown>[] = [
    { name: 2, Name: 1 },
    { NAME: 1 },
    { name: null, NAME: 'not this one' },
    {},
    JSON.parse('{"__proto__": "p", "constructor": "c"}') as Record<string, unknown>,
    Object.create(null) as Record<string, unknown>,
  ]
  for (const name of ['name', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
    const read = fieldReader(name)
    for (const values of records) assert.equal(read(values), fieldValue(values, name, name.toLowerCase()), `${name} of ${JSON.stringify(values)}`)
  }
  assert.equal(fieldReader('name')({ name: null, NAME: 'x' }), null, 'an exact null is the value')
})

test('encodeRows streams bounded chunks, NULLs as \\N, optional ordinal', () => {
  const cols: CopyColumn[] = [
    { name: 'a', encode: encodeGeneric },
    { name: 'b', encode: encodeGeneric },
  ]
  const rows = Array.from({ length: 25 }, (_, i) => ({ a: i, b: i % 2 === 0 ? null : `x${i}` }))
  const chunks = [...encodeRows(rows, cols, 0, 25, { rows: 10, chars: 1 << 20 })]
  assert.equal(chunks.length, 3)
  const text = Buffer.concat(chunks).toString()
  assert.equal(text.split('\n').length, 26)
  assert.ok(text.startsWith('0\t\\N\n1\tx1\n'))
  assert.equal(Buffer.concat([...encodeRows(rows, cols, 3, 5, undefined, true)]).toString(), '3\tx3\t3\n4\t\\N\t4\n')
  const byChars = [...encodeRows(rows, cols, 0, 25, { rows: 1000, chars: 8 })]
  assert.ok(byChars.length >= 12)
})


test('exact numbers are written as their text; integer columns get the digits of integral ones', () => {
  const row = parseJson('{"id": 9007199254740993, "amount": 12345678901234567890.12345678901234567890, "f": 0.1000000000000000055511, "j": {"n": 9007199254740993}, "i2": 9007199254740993.000, "bad": 1.0000000000000000001}') as Record<string, unknown>
  const int8 = encoderFor('int8', 'N')
  const numeric = encoderFor('numeric', 'N')
  assert.equal(int8(row.id), '9007199254740993')
  assert.equal(numeric(row.amount), '12345678901234567890.12345678901234567890')
  assert.equal(encoderFor('float8', 'N')(row.f), '0.1000000000000000055511') // the server rounds, as for any float input
  assert.equal(encoderFor('jsonb', 'U')(row.j), '{"n":9007199254740993}')
  assert.equal(encoderFor('text', 'S')(row.id), '9007199254740993')
  assert.equal(int8(row.i2), '9007199254740993')
  assert.equal(int8(row.bad), '1.0000000000000000001') // left for the server to refuse, never rounded to 1
  assert.equal(int8(7), '7')
  const chunks = [...encodeRows([row], [{ name: 'id', encode: int8 }, { name: 'amount', encode: numeric }], 0, 1)]
  assert.equal(Buffer.concat(chunks).toString(), '9007199254740993\t12345678901234567890.12345678901234567890\n')
})

/** Every column type the encoder tells apart, with the values that need care. */
const TYPED: CopyColumn[] = [
  ['id', 'int8', 'N'],
  ['name', 'text', 'S'],
  ['amount', 'numeric', 'N'],
  ['at', 'timestamptz', 'D'],
  ['doc', 'jsonb', 'U'],
  ['tags', '_text', 'A'],
  ['raw', 'bytea', 'U'],
  ['flag', 'bool', 'B'],
].map(([name, udt, category]) => ({ name: name as string, encode: encoderFor(udt as string, category as string) }))

test('encodeRows writes every column type byte for byte as the value encoders do, UTF-8 and escapes included', () => {
  const rows = [
    parseJson('{"id": 9007199254740993, "name": "tab\\there\\nnew\\rline\\\\back", "amount": 12345678901234567890.12345678901234567890, "at": 0, "doc": {"s": "a\\tb", "n": 9007199254740993}, "tags": ["x", null, "q\\"uote"], "raw": "héllo", "flag": true}') as Record<string, unknown>,
    { id: 1, name: 'é 🦀 中文', amount: 0.1, at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), doc: null, tags: [], raw: Buffer.from([0, 1, 254, 255]), flag: false },
    { id: null, name: undefined, amount: Number.NaN, at: '2026-01-01 00:00:00+00', doc: ['\\'], tags: 'not an array', raw: null },
    { ID: 7, NAME: 'upper case names match', Amount: -1.5 },
    {},
  ]
  const expected = rows.map((r) => TYPED.map((c) => {
    const v = fieldValue(r, c.name, c.name.toLowerCase())
    return v === null || v === undefined ? '\\N' : c.encode(v)
  }).join('\t') + '\n').join('')
  const text = Buffer.concat([...encodeRows(rows, TYPED, 0, rows.length)]).toString('utf8')
  assert.equal(text, expected)
  const lines = text.split('\n')
  assert.equal(lines[0], '9007199254740993\ttab\\there\\nnew\\rline\\\\back\t12345678901234567890.12345678901234567890\t1970-01-01T00:00:00.000Z\t{"s":"a\\\\tb","n":9007199254740993}\t{"x",NULL,"q\\\\"uote"}\t\\\\x68c3a96c6c6f\ttrue')
  assert.equal(lines[1], '1\té 🦀 中文\t0.1\t2026-01-02T03:04:05.006Z\t\\N\t{}\t\\\\x0001feff\tfalse')
  assert.equal(lines[2], '\\N\t\\N\tNaN\t2026-01-01 00:00:00+00\t["\\\\\\\\"]\tnot an array\t\\N\t\\N')
  assert.equal(lines[3], '7\tupper case names match\t-1.5\t\\N\t\\N\t\\N\t\\N\t\\N')
  assert.equal(lines[4], '\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N')
})

test('encodeRows: chunks end at line ends, are never written over, and a line longer than a chunk still goes whole', () => {
  const cols: CopyColumn[] = [{ name: 'a', encode: encodeGeneric }]
  const rows = Array.from({ length: 300 }, (_, i) => ({ a: i === 150 ? '€'.repeat(5000) : `row ${i} ✓` }))
  const chunks = [...encodeRows(rows, cols, 0, rows.length, { rows: 1000, chars: 256 })]
  assert.ok(chunks.length > 10)
  for (const chunk of chunks) assert.equal(chunk[chunk.length - 1], 0x0a, 'a chunk holds whole lines')
  // All chunks are read only after all were made: a reused Buffer would show the last rows everywhere.
  const lines = Buffer.concat(chunks).toString('utf8').split('\n')
  assert.equal(lines.length, 301)
  assert.equal(lines[0], 'row 0 ✓')
  assert.equal(lines[150], '€'.repeat(5000))
  assert.equal(lines[299], 'row 299 ✓')
  // About `chars` bytes: a chunk ends at the first line end at or past it (these lines are < 16 bytes).
  const long = Buffer.from('€'.repeat(5000) + '\n')
  assert.ok(chunks.some((c) => c.equals(long)), 'the long line is a chunk of its own')
  assert.ok(chunks.every((c) => c.length < 256 + 16 || c.equals(long)))
})

test('encodeRows: names every object inherits are data, never inherited values', () => {
  const cols: CopyColumn[] = ['constructor', 'toString', '__proto__', 'hasOwnProperty'].map((name) => ({ name, encode: encodeGeneric }))
  const own = JSON.parse('{"constructor": "c", "toString": 2, "__proto__": "p", "HASOWNPROPERTY": true}') as Record<string, unknown>
  const text = Buffer.concat([...encodeRows([{}, own], cols, 0, 2)]).toString()
  assert.equal(text, '\\N\t\\N\t\\N\t\\N\nc\t2\tp\ttrue\n')
})

test('encodeRows: an empty range yields nothing; no columns gives empty lines (ordinal alone with it)', () => {
  assert.deepEqual([...encodeRows([{ a: 1 }], [{ name: 'a', encode: encodeGeneric }], 1, 1)], [])
  assert.equal(Buffer.concat([...encodeRows([{ a: 1 }, { a: 2 }], [], 0, 2)]).toString(), '\n\n')
  assert.equal(Buffer.concat([...encodeRows([{ a: 1 }, { a: 2 }], [], 0, 2, undefined, true)]).toString(), '0\n1\n')
})
