import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../../errors.ts'
import { exactNumber, parseJson } from '../../../engine/exact-number.ts'
import { compareValues, filterTransform, type FilterStep } from './transform.ts'

const keep = (op: FilterStep['op'], value: unknown, row: Record<string, unknown>, field = 'x'): boolean =>
  filterTransform(value === undefined ? { type: 'filter', field, op } : { type: 'filter', field, op, value })(row)

test('number comparisons, also against numeric strings (CSV)', () => {
  assert.equal(keep('gt', 10, { x: 11 }), true)
  assert.equal(keep('gt', 10, { x: 10 }), false)
  assert.equal(keep('gte', 10, { x: 10 }), true)
  assert.equal(keep('lt', 10, { x: '9.5' }), true)
  assert.equal(keep('lte', '10', { x: 10 }), true)
  assert.equal(keep('eq', 5, { x: '5' }), true)
  assert.equal(keep('eq', 5, { x: ' ' }), false)
  assert.equal(keep('ne', 5, { x: 6 }), true)
})

test('strings compare by code point; booleans; incomparable values', () => {
  assert.equal(keep('eq', 'paid', { x: 'paid' }), true)
  assert.equal(keep('gt', '2026-01-01T00:00:00Z', { x: '2026-03-01T00:00:00Z' }), true)
  assert.equal(keep('eq', true, { x: true }), true)
  assert.equal(keep('eq', true, { x: 'true' }), true)
  assert.equal(keep('eq', 'abc', { x: 5 }), false)
  assert.equal(keep('ne', 'abc', { x: 5 }), true)
  assert.equal(keep('eq', 'a', { x: { a: 1 } }), false)
  assert.equal(compareValues([1], [1]), null)
})

test('a Date compares with dates, epoch ms and date strings (UTC without a zone)', () => {
  const row = { x: new Date('2026-01-02T00:00:00Z') }
  assert.equal(keep('gte', '2026-01-02', row), true)
  assert.equal(keep('lt', '2026-01-01 23:00', row), false)
  assert.equal(keep('eq', Date.UTC(2026, 0, 2), row), true)
})

test('null and absent fields fail every comparison but isnull (SQL semantics)', () => {
  for (const row of [{ x: null }, {}]) {
    assert.equal(keep('eq', 1, row), false)
    assert.equal(keep('ne', 1, row), false)
    assert.equal(keep('in', [1, null], row), false)
    assert.equal(keep('isnull', undefined, row), true)
    assert.equal(keep('notnull', undefined, row), false)
  }
  assert.equal(keep('notnull', undefined, { x: 0 }), true)
  assert.equal(keep('eq', null, { x: 1 }), false)
  assert.equal(keep('isnull', undefined, { constructor: 1 }, 'toString'), true)
})

test('in matches any listed value; a non-list is a config error', () => {
  assert.equal(keep('in', ['a', 2], { x: '2' }), true)
  assert.equal(keep('in', ['a', 2], { x: 'b' }), false)
  assert.throws(() => keep('in', 'a', { x: 'a' }), (err) => isSluiceError(err, 'CONFIG_INVALID'))
})

test('numbers too long for a double compare exactly', () => {
  const row = parseJson('{"x": 9007199254740993, "a": 12345678901234567890.12345678901234567890}') as Record<string, unknown>
  // As doubles all of these would be equal (9007199254740992).
  assert.equal(keep('eq', '9007199254740993', row), true)
  assert.equal(keep('gt', '9007199254740992', row), true)
  assert.equal(keep('eq', '9007199254740992', row), false)
  assert.equal(keep('ne', '9007199254740992', row), true)
  assert.equal(keep('lt', exactNumber('9007199254740994'), row), true)
  assert.equal(keep('in', ['1', '9007199254740993'], row), true)
  assert.equal(keep('gt', 9007199254740992, row), true)
  assert.equal(keep('lt', '12345678901234567890.12345678901234567891', row, 'a'), true)
  assert.equal(keep('gt', '12345678901234567890.1234567890123456789', row, 'a'), false)
  assert.equal(keep('eq', '12345678901234567890.1234567890123456789', row, 'a'), true) // same value, trailing zero dropped
  assert.equal(keep('gt', 12345678901234567000, row, 'a'), true)
  assert.equal(compareValues(exactNumber('9007199254740993'), 'not a number'), null)
  // A long numeric string (CSV) against a plain number compares exactly too.
  assert.equal(keep('gt', 9007199254740992, { x: '9007199254740993' }), true)
})

test('filter on a field path; a path that does not resolve is a missing field', () => {
  assert.equal(keep('gt', 10, { order: { total: 11 } }, 'order.total'), true)
  assert.equal(keep('eq', 'S2', { items: [{ sku: 'S1' }, { sku: 'S2' }] }, 'items[1].sku'), true)
  assert.equal(keep('isnull', undefined, { order: {} }, 'order.total'), true)
  assert.equal(keep('ne', 1, { order: 5 }, 'order.total'), false)
  assert.equal(keep('eq', 'literal', { 'a.b': 'literal', a: { b: 'nested' } }, 'a.b'), true)
})
