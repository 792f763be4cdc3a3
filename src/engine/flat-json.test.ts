import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FlatFields, RowValues, SourceRecord } from '../api/record.ts'
import { fieldValue } from '../components/sinks/postgres/copy-encode.ts'
import { decodeValues } from './decode.ts'
import { isExactNumber } from './exact-number.ts'
import { ABSENT, ASK_VALUES, FieldKind, SPAN, fieldKind, fieldName, findField, scanFlat, valueEnd, valueStart } from './flat-json.ts'
import { NAMES, NUMBERS, damaged, eventText, random } from './flat-json.testkit.ts'
import { FlatRow } from './flat-row.ts'

const record = (value: Buffer): SourceRecord => ({ partition: 't/0', topic: 't', partitionNumber: 0, offset: '0', key: null, value, timestamp: 0, headers: [] })

function keyOf(f: FlatFields, i: number): string {
  const o = f.base + i * SPAN
  return f.bytes.toString('utf8', f.spans[o + 1], f.spans[o + 2])
}

function spanText(f: FlatFields, i: number): string {
  return f.bytes.toString('utf8', valueStart(f, i), valueEnd(f, i))
}

/** What the decode path made of field `i`, checked against the kind the scan gave it. */
function assertKind(f: FlatFields, i: number, v: unknown, text: string): void {
  const kind = fieldKind(f, i)
  const where = `${keyOf(f, i)} in ${text}`
  switch (kind) {
    case FieldKind.PLAIN_STRING:
      assert.equal(v, spanText(f, i), where)
      assert.ok(!spanText(f, i).includes('\\'), where)
      break
    case FieldKind.OTHER_STRING:
      assert.equal(typeof v, 'string', where)
      break
    case FieldKind.PLAIN_NUMBER:
      assert.equal(typeof v, 'number', where)
      assert.equal(String(v), spanText(f, i), where)
      break
    case FieldKind.OTHER_NUMBER:
      assert.ok(typeof v === 'number' || isExactNumber(v), where)
      break
    case FieldKind.TRUE:
      assert.equal(v, true, where)
      break
    case FieldKind.FALSE:
      assert.equal(v, false, where)
      break
    case FieldKind.NULL:
      assert.equal(v, null, where)
      break
    case FieldKind.COMPLEX:
      assert.ok(typeof v === 'object' && v !== null && !isExactNumber(v), where)
      break
    default:
      assert.fail(`kind ${String(kind)} for ${where}`)
  }
}

test('scanFlat agrees with the decode path on 30,000 random events and damaged copies of them', () => {
  const rnd = random(13)
  const seen = { flat: 0, refusedGood: 0, bad: 0, plainNumbers: 0, plainStrings: 0 }
  for (let n = 0; n < 30_000; n++) {
    const text = eventText(rnd, rnd() < 0.05)
    const bytes = rnd() < 0.3 ? damaged(rnd, text) : Buffer.from(text, 'utf8')
    const decoded = decodeValues(record(bytes))
    const flat = scanFlat(bytes)
    const shown = bytes.toString('latin1')
    if (typeof decoded === 'string') {
      seen.bad++
      assert.equal(flat, null, `the decode refused ${shown} (${decoded}); the scan must too`)
      continue
    }
    if (flat === null) {
      seen.refusedGood++
      continue
    }
    seen.flat++
    const keys = Array.from({ length: flat.count }, (_, i) => keyOf(flat, i))
    assert.deepEqual([...keys].sort(), Object.keys(decoded).sort(), shown)
    for (let i = 0; i < flat.count; i++) {
      assertKind(flat, i, decoded[keyOf(flat, i)], shown)
      if (fieldKind(flat, i) === FieldKind.PLAIN_NUMBER) seen.plainNumbers++
      if (fieldKind(flat, i) === FieldKind.PLAIN_STRING) seen.plainStrings++
    }
    assert.deepEqual(new FlatRow(record(bytes), flat).values, decoded)
  }
  // Every branch was taken, many times.
  for (const [what, count] of Object.entries(seen)) assert.ok(count > 500, `${what}: ${count}`)
})

test('a number is plain exactly when String() of its double writes it as it is written', () => {
  for (const t of NUMBERS) {
    const f = scanFlat(Buffer.from(`{"n":${t}}`)) as FlatFields
    const kind = fieldKind(f, 0)
    const v: unknown = JSON.parse(t)
    const canonical = typeof v === 'number' && String(v) === t && !/[eE]/.test(t) && t.replace(/^-|\.|^0\.0*/g, '').length <= 15
    assert.equal(kind === FieldKind.PLAIN_NUMBER, canonical, t)
  }
  assert.equal(fieldKind(scanFlat(Buffer.from('{"n":0.000001}')) as FlatFields, 0), FieldKind.PLAIN_NUMBER)
  assert.equal(fieldKind(scanFlat(Buffer.from('{"n":0.0000001}')) as FlatFields, 0), FieldKind.OTHER_NUMBER) // String gives 1e-7
  assert.equal(fieldKind(scanFlat(Buffer.from('{"n":1.50}')) as FlatFields, 0), FieldKind.OTHER_NUMBER)
  assert.equal(fieldKind(scanFlat(Buffer.from('{"n":-0}')) as FlatFields, 0), FieldKind.OTHER_NUMBER)
})

test('findField reads a column by the sink rule: the exact name, else the first case-insensitive match; non-ASCII asks the values', () => {
  const f = scanFlat(Buffer.from('{"Id": 1, "id": 2, "NAME": "a", "Name": "b", "ñ": 3}')) as FlatFields
  assert.equal(findField(f, fieldName('id'), 0), 1)
  assert.equal(findField(f, fieldName('Id'), 1), 0)
  // A non-ASCII key could match by case ('\u212a'.toLowerCase() is 'k'): only the values can say.
  assert.equal(findField(f, fieldName('name'), 0), ASK_VALUES)
  assert.equal(findField(f, fieldName('NAME'), 0), 2)
  const ascii = scanFlat(Buffer.from('{"Id": 1, "NAME": "a", "Name": "b"}')) as FlatFields
  assert.equal(findField(ascii, fieldName('name'), 5), 1)
  assert.equal(findField(ascii, fieldName('missing'), 0), ABSENT)
  assert.equal(findField(ascii, fieldName('ñame'), 0), ABSENT)
  assert.equal(findField(scanFlat(Buffer.from('{"KEY": 1}')) as FlatFields, fieldName('\u212aey'), 0), 0) // the Kelvin sign lowers to k
  assert.equal(findField(scanFlat(Buffer.from('{}')) as FlatFields, fieldName('ñ'), 0), ABSENT)
})

test('findField gives what fieldValue reads, for every name on random events', () => {
  const rnd = random(29)
  let compared = 0
  for (let n = 0; n < 5000; n++) {
    const bytes = Buffer.from(eventText(rnd), 'utf8')
    const flat = scanFlat(bytes)
    if (flat === null) continue
    const decoded = decodeValues(record(bytes)) as RowValues
    for (const name of NAMES) {
      const i = findField(flat, fieldName(name), Math.floor(rnd() * 4))
      if (i === ASK_VALUES) continue
      compared++
      const expected = fieldValue(decoded, name, name.toLowerCase())
      assert.deepEqual(i === ABSENT ? undefined : decoded[keyOf(flat, i)], expected, `${name} in ${bytes.toString()}`)
    }
  }
  assert.ok(compared > 50_000, `${compared}`)
})

test('scanFlat: spans of many records share one array and are never written over', () => {
  const rows: Array<[FlatFields, string]> = []
  for (let i = 0; i < 20_000; i++) {
    const text = `{"i": ${i}, "s": "v${i}"}`
    rows.push([scanFlat(Buffer.from(text)) as FlatFields, text])
  }
  for (const [f, text] of rows) {
    const i = JSON.parse(text) as { i: number }
    assert.equal(spanText(f, 0), String(i.i))
    assert.equal(spanText(f, 1), `v${i.i}`)
  }
})
