import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseJson } from '../../../engine/exact-number.ts'
import { encodeArray, encodeBytea, encodeGeneric, encodeJson, encodeRows, encodeTime, encoderFor, escapeCopy, fieldValue, type CopyColumn } from './copy-encode.ts'

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
