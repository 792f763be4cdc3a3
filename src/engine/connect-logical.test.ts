import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { SourceRecord } from '../api/record.ts'
import { dateText, decimalText, fieldConverter, recordConverter, schemaText, timestampText, unscaled } from './connect-logical.ts'
import { decodeValues } from './decode.ts'
import { decodeChange } from './debezium.ts'
import { exactNumber } from './exact-number.ts'

/** Big-endian two's complement of `n` in the fewest bytes, base64: how Connect writes a Decimal. */
function decimalBytes(n: bigint): string {
  const bytes: number[] = []
  let v = n
  for (;;) {
    bytes.unshift(Number(v & 0xffn))
    v >>= 8n
    const sign = (bytes[0] as number) & 0x80
    if ((v === 0n && !sign) || (v === -1n && sign)) break
  }
  return Buffer.from(bytes).toString('base64')
}

const decimal = (scale: number) => ({ type: 'bytes' as const, optional: true, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: String(scale) } })
const convert = (schema: Parameters<typeof fieldConverter>[0], v: unknown): unknown => {
  const c = fieldConverter(schema)
  assert.ok(c, `a converter for ${schema.name}`)
  return c(v)
}

test('Decimal: base64 two\'s complement with the scale parameter becomes exact numeric text', () => {
  assert.equal(convert(decimal(2), 'MDk='), '123.45') // 0x3039 = 12345
  assert.equal(convert(decimal(2), 'z8c='), '-123.45') // 0xCFC7 = -12345
  assert.equal(convert(decimal(3), 'BQ=='), '0.005')
  assert.equal(convert(decimal(3), decimalBytes(-5n)), '-0.005')
  assert.equal(convert(decimal(0), 'gA=='), '-128') // a lone sign bit
  assert.equal(convert(decimal(0), 'AIA='), '128')
  assert.equal(convert(decimal(0), 'AA=='), '0')
  // A negative scale multiplies: unscaled 5, scale -3 is 5000.
  assert.equal(convert(decimal(-3), 'BQ=='), '5000')
  // Far beyond 2^53 and beyond a double's 17 digits, both signs.
  const big = 123456789012345678901234567890123n
  assert.equal(convert(decimal(5), decimalBytes(big)), '1234567890123456789012345678.90123')
  assert.equal(convert(decimal(5), decimalBytes(-big)), '-1234567890123456789012345678.90123')
  assert.equal(convert(decimal(0), decimalBytes(2n ** 53n + 1n)), '9007199254740993')
  // Already a number (decimal.format=NUMERIC): kept; null passes.
  assert.equal(convert(decimal(2), 12.5), 12.5)
  assert.equal(convert(decimal(2), null), null)
  assert.throws(() => convert(decimal(2), ''), /empty or not base64/)
})

test('decimalText and unscaled agree with each other on random values', () => {
  for (let i = 0; i < 500; i++) {
    const digits = Array.from({ length: 1 + (i % 40) }, () => Math.floor(Math.random() * 10)).join('')
    const n = (i % 2 ? -1n : 1n) * BigInt(digits)
    assert.equal(unscaled(decimalBytes(n)), n)
    const scale = (i % 7) - 2
    const text = decimalText(n, scale)
    // Back to the unscaled integer: remove the point, or divide out a negative scale's zeros.
    const back = scale > 0 ? BigInt(text.replace('.', '')) : BigInt(text) / 10n ** BigInt(-scale)
    assert.equal(back, n, text)
  }
})

test('VariableScaleDecimal: {scale, value} becomes exact numeric text', () => {
  const s = { type: 'struct' as const, optional: true, name: 'io.debezium.data.VariableScaleDecimal', fields: [{ type: 'int32' as const, optional: false, field: 'scale' }, { type: 'bytes' as const, optional: false, field: 'value' }] }
  assert.equal(convert(s, { scale: 3, value: 'MDk=' }), '12.345')
  assert.equal(convert(s, { scale: 0, value: decimalBytes(-(10n ** 30n)) }), `-1${'0'.repeat(30)}`)
  assert.equal(convert(s, { scale: 30, value: decimalBytes(1n) }), `0.${'0'.repeat(29)}1`)
  assert.equal(convert(s, null), null)
})

test('Date (Connect and Debezium): days since 1970-01-01, negative days too, BC before year 1', () => {
  for (const name of ['org.apache.kafka.connect.data.Date', 'io.debezium.time.Date']) {
    const s = { type: 'int32' as const, optional: true, name }
    assert.equal(convert(s, 0), '1970-01-01')
    assert.equal(convert(s, -1), '1969-12-31')
    assert.equal(convert(s, 19723), '2024-01-01')
    assert.equal(convert(s, 11016), '2000-02-29')
    assert.equal(convert(s, -719162), '0001-01-01')
    assert.equal(convert(s, -719163), '0001-12-31 BC')
    assert.equal(convert(s, 2932896), '9999-12-31')
    assert.equal(convert(s, null), null)
    assert.throws(() => convert(s, 'soon'), /not an integer/)
  }
  assert.throws(() => dateText(10n ** 12n), /outside/)
})

test('Timestamp (ms, an instant) -> timestamptz text with +00; before 1970 too', () => {
  const s = { type: 'int64' as const, optional: true, name: 'org.apache.kafka.connect.data.Timestamp' }
  assert.equal(convert(s, 0), '1970-01-01 00:00:00.000+00')
  assert.equal(convert(s, -1), '1969-12-31 23:59:59.999+00')
  assert.equal(convert(s, 1704067200123), '2024-01-01 00:00:00.123+00')
  assert.equal(convert(s, -62135596800001), '0001-12-31 23:59:59.999+00 BC')
})

test('MicroTimestamp / Timestamp / NanoTimestamp (Debezium, zone-less) -> timestamp text', () => {
  const micro = { type: 'int64' as const, optional: true, name: 'io.debezium.time.MicroTimestamp' }
  assert.equal(convert(micro, 1704067200123456), '2024-01-01 00:00:00.123456')
  assert.equal(convert(micro, -1), '1969-12-31 23:59:59.999999')
  assert.equal(convert(micro, -315619199876544), '1960-01-01 00:00:00.123456')
  // Past 2^53 µs (year 2255), the JSON literal is exact text.
  assert.equal(convert(micro, exactNumber('9007199254740993')), '2255-06-05 23:47:34.740993')
  assert.equal(convert({ ...micro, name: 'io.debezium.time.Timestamp' }, -1), '1969-12-31 23:59:59.999')
  assert.equal(convert({ ...micro, name: 'io.debezium.time.NanoTimestamp' }, exactNumber('1704067200123456789')), '2024-01-01 00:00:00.123456789')
  assert.equal(timestampText(-1n, 6), '1969-12-31 23:59:59.999999')
})

test('times of day, ZonedTimestamp and plain types pass or convert as documented', () => {
  assert.equal(convert({ type: 'int64', optional: true, name: 'io.debezium.time.MicroTime' }, 45296000001), '12:34:56.000001')
  assert.equal(convert({ type: 'int32', optional: true, name: 'org.apache.kafka.connect.data.Time' }, 45296789), '12:34:56.789')
  assert.equal(fieldConverter({ type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp' }), null)
  assert.equal(fieldConverter({ type: 'int64', optional: true }), null)
})

function rec(value: string): SourceRecord {
  return { partition: 't/0', topic: 't', partitionNumber: 0, offset: '0', key: null, value: Buffer.from(value), timestamp: 5, headers: [] }
}

const ROW = {
  type: 'struct',
  optional: true,
  name: 'dbz.public.t.Value',
  fields: [
    { type: 'int32', optional: false, field: 'id' },
    { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2', 'connect.decimal.precision': '12' }, field: 'amount' },
    { type: 'int32', optional: true, name: 'io.debezium.time.Date', field: 'day' },
    { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', field: 'at' },
  ],
}
const ENVELOPE = { type: 'struct', optional: false, name: 'dbz.public.t.Envelope', fields: [{ ...ROW, field: 'before' }, { ...ROW, field: 'after' }, { type: 'string', optional: false, field: 'op' }] }

test('a Debezium event with its schema: "after" (and "before") get PostgreSQL values', () => {
  const after = { id: 1, amount: 'z8c=', day: -1, at: '2024-01-01T00:00:00Z' }
  const out = decodeChange(rec(JSON.stringify({ schema: ENVELOPE, payload: { before: null, after, op: 'c' } })), ['id'])
  assert.ok(typeof out === 'object' && out.kind === 'row')
  assert.deepEqual(out.values, { id: 1, amount: '-123.45', day: '1969-12-31', at: '2024-01-01T00:00:00Z' })
  // Without the schema the values stay as written (nothing says what they encode).
  const plain = decodeChange(rec(JSON.stringify({ before: null, after, op: 'c' })), ['id'])
  assert.ok(typeof plain === 'object' && plain.kind === 'row')
  assert.deepEqual(plain.values, after)
  // A value that does not fit its schema is a dead letter with the reason.
  const bad = decodeChange(rec(JSON.stringify({ schema: ENVELOPE, payload: { before: null, after: { ...after, day: 'x' }, op: 'c' } })), ['id'])
  assert.match(String(bad), /does not match its schema: Date days is "x", not an integer/)
})

test('a Connect-envelope record (extract.envelope "connect") is converted by its schema too', () => {
  const out = decodeValues(rec(JSON.stringify({ schema: ROW, payload: { id: 2, amount: 'MDk=', day: 19723, at: null } })), 'connect')
  assert.deepEqual(out, { id: 2, amount: '123.45', day: '2024-01-01', at: null })
  assert.equal(recordConverter(null), null)
  assert.equal(recordConverter({ type: 'nonsense' }), null)
})

test('the schema is found by its text in the value: the same converter as from the parsed schema, and no false keys', () => {
  const value = Buffer.from(JSON.stringify({ schema: ROW, payload: { id: 1 } }))
  assert.equal(schemaText(value), JSON.stringify(ROW))
  const bySlice = recordConverter(ROW, value)
  assert.ok(bySlice)
  assert.equal(recordConverter(ROW, value), bySlice, 'compiled once, then found by the slice')
  assert.deepEqual(bySlice({ id: 1, amount: 'MDk=', day: 0 }), recordConverter(ROW)?.({ id: 1, amount: 'MDk=', day: 0 }))
  // Not JsonConverter's layout (spaces, payload first): no slice, the schema is serialized instead.
  assert.equal(schemaText(Buffer.from(`{"schema": ${JSON.stringify(ROW)}, "payload": {}}`)), null)
  assert.equal(schemaText(Buffer.from(`{"payload":{},"schema":${JSON.stringify(ROW)}}`)), null)
  // A struct default with a nested object followed by a field named payload: the first cut is
  // inside the schema (a string cannot hold the separator: JSON escapes its quotes), the slice is
  // no complete JSON, so no key; the record still converts by its real schema.
  const tricky = { ...ROW, fields: [{ type: 'struct', optional: true, fields: [], default: { a: { b: 1 }, payload: 2 }, field: 'note' }, ...ROW.fields] }
  const trickyValue = Buffer.from(JSON.stringify({ schema: tricky, payload: { note: 'n', id: 3, amount: 'MDk=' } }))
  assert.notEqual(schemaText(trickyValue), JSON.stringify(tricky))
  const out = decodeValues(rec(trickyValue.toString()), 'connect')
  assert.deepEqual(out, { note: 'n', id: 3, amount: '123.45' })
  // Two schemas alike up to that point do not share a converter.
  const other = { ...tricky, fields: tricky.fields.map((f) => (f.field === 'amount' ? { ...f, parameters: { scale: '1' } } : f)) }
  assert.deepEqual(decodeValues(rec(JSON.stringify({ schema: other, payload: { id: 3, amount: 'MDk=' } })), 'connect'), { id: 3, amount: '1234.5' })
})
