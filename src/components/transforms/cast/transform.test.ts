import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../../errors.ts'
import { exactNumber, isExactNumber, parseJson } from '../../../engine/exact-number.ts'
import { castTransform, parseTimestampMs, type CastType } from './transform.ts'

const cast = (type: CastType, v: unknown): unknown => castTransform({ type: 'cast', columns: { c: type } })({ c: v }).c
const fails = (type: CastType, v: unknown): void =>
  assert.throws(() => cast(type, v), (err) => isSluiceError(err, 'RECORD_TRANSFORM') && !err.retryable && err.details.column === 'c', `${typeof v === "object" ? JSON.stringify(v) : String(v)} -> ${type}`)

test('int', () => {
  assert.equal(cast('int', '42'), 42)
  assert.equal(cast('int', ' -007 '), -7)
  assert.equal(cast('int', '3.0'), 3)
  assert.equal(cast('int', 12), 12)
  assert.equal(cast('int', '123456789012345678901'), '123456789012345678901')
  for (const bad of ['3.5', '', 'abc', '1e3', 3.5, true, {}]) fails('int', bad)
})

test('float', () => {
  assert.equal(cast('float', '3.25'), 3.25)
  assert.equal(cast('float', '1e3'), 1000)
  assert.equal(cast('float', 2), 2)
  for (const bad of ['', ' ', 'x', Infinity, 'NaN', false]) fails('float', bad)
})

test('boolean', () => {
  for (const t of [true, 1, 'true', 'T', 'yes', 'on', '1', ' Y ']) assert.equal(cast('boolean', t), true, String(t))
  for (const f of [false, 0, 'false', 'f', 'NO', 'off', '0']) assert.equal(cast('boolean', f), false, String(f))
  for (const bad of ['maybe', 2, '']) fails('boolean', bad)
})

test('string', () => {
  assert.equal(cast('string', 5), '5')
  assert.equal(cast('string', true), 'true')
  assert.equal(cast('string', { a: [1] }), '{"a":[1]}')
  assert.equal(cast('string', new Date(0)), '1970-01-01T00:00:00.000Z')
})

test('timestamp: ISO UTC out; no zone means UTC', () => {
  assert.equal(cast('timestamp', '2026-01-02 03:04:05'), '2026-01-02T03:04:05.000Z')
  assert.equal(cast('timestamp', '2026-01-02'), '2026-01-02T00:00:00.000Z')
  assert.equal(cast('timestamp', '2026-01-02T03:04:05.5+02:00'), '2026-01-02T01:04:05.500Z')
  assert.equal(cast('timestamp', 0), '1970-01-01T00:00:00.000Z')
  assert.equal(cast('timestamp', new Date(1000)), '1970-01-01T00:00:01.000Z')
  for (const bad of ['yesterday', '', true, 1e300]) fails('timestamp', bad)
  assert.equal(parseTimestampMs('2026-01-01T00:00'), Date.UTC(2026, 0, 1))
})

test('json: strings are parsed, structures kept', () => {
  assert.deepEqual(cast('json', '{"a":[1,2]}'), { a: [1, 2] })
  assert.deepEqual(cast('json', { a: 1 }), { a: 1 })
  assert.equal(cast('json', 5), 5)
  fails('json', '{nope')
})

test('null stays null, absent stays absent, other columns and the input are untouched', () => {
  const t = castTransform({ type: 'cast', columns: { a: 'int', b: 'int', c: 'int' } })
  const row = { a: '1', b: null, d: 'x' }
  const out = t(row)
  assert.deepEqual(out, { a: 1, b: null, d: 'x' })
  assert.ok(!('c' in out))
  assert.deepEqual(row, { a: '1', b: null, d: 'x' })
})

test('exact numbers (too long for a double) stay exact through cast', () => {
  const v = parseJson('{"id": 9007199254740993, "amount": 12345678901234567890.12345678901234567890, "whole": 9007199254740993.000, "f": 0.1000000000000000055511}') as Record<string, unknown>
  const id = cast('int', v.id)
  assert.ok(isExactNumber(id) && id.rawJSON === '9007199254740993')
  const whole = cast('int', v.whole)
  assert.ok(isExactNumber(whole) && whole.rawJSON === '9007199254740993')
  fails('int', exactNumber('12.0000000000000000001'))
  assert.equal(cast('int', exactNumber('12.000000000000000000')), 12)
  fails('int', v.amount) // has a fraction: not rounded to an integer
  assert.equal(cast('string', v.amount), '12345678901234567890.12345678901234567890')
  assert.equal(cast('float', v.f), 0.1)
  fails('float', exactNumber('1e400'))
  fails('boolean', v.id)
  const j = cast('json', '{"n": 9007199254740993}') as Record<string, unknown>
  assert.ok(isExactNumber(j.n) && j.n.rawJSON === '9007199254740993')
})

test('a field path casts the nested value in place without changing the input', () => {
  const t = castTransform({ type: 'cast', columns: { 'order.total': 'float', 'order.lines[0].qty': 'int', 'order.none': 'int', 'a.b': 'int' } })
  const row = { order: { total: '9.5', lines: [{ qty: '2' }, { qty: '3' }] }, 'a.b': '7', a: { b: 'x' } }
  assert.deepEqual(t(row), { order: { total: 9.5, lines: [{ qty: 2 }, { qty: '3' }] }, 'a.b': 7, a: { b: 'x' } })
  assert.deepEqual(row.order, { total: '9.5', lines: [{ qty: '2' }, { qty: '3' }] })
  assert.throws(
    () => castTransform({ type: 'cast', columns: { 'order.total': 'int' } })({ order: { total: 'abc' } }),
    (err) => isSluiceError(err, 'RECORD_TRANSFORM') && /column "order.total"/.test(err.message),
  )
})
