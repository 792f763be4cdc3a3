import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exactNumber } from '../engine/exact-number.ts'
import { fieldAt, fieldGetter, fieldPath, isPlainName, parseFieldPath, rootField, setAtPath } from './field-path.ts'

const get = (path: string, values: Record<string, unknown>): unknown => fieldGetter(path)(values)

test('paths parse into field names and indexes', () => {
  assert.deepEqual(fieldPath('id').segments, ['id'])
  assert.deepEqual(fieldPath('a.b.c').segments, ['a', 'b', 'c'])
  assert.deepEqual(fieldPath('items[0].sku').segments, ['items', 0, 'sku'])
  assert.deepEqual(fieldPath('m[2][10]').segments, ['m', 2, 10])
  assert.deepEqual(fieldPath('meta["trace.id"]').segments, ['meta', 'trace.id'])
  assert.deepEqual(fieldPath('["a.b"].c').segments, ['a.b', 'c'])
  assert.deepEqual(fieldPath('x["q\\"]"]').segments, ['x', 'q"]'])
  assert.deepEqual(fieldPath('my field.sub field').segments, ['my field', 'sub field'])
  assert.equal(rootField('customer.address.city'), 'customer')
  assert.equal(isPlainName('user_id'), true)
  assert.equal(isPlainName('_metadata.timestamp'), false)
})

test('a bad path says what is wrong and where', () => {
  const error = (text: string): string => {
    const p = parseFieldPath(text)
    assert.ok('error' in p, text)
    return p.error
  }
  assert.match(error('a..b'), /empty field name at position 3/)
  assert.match(error('a.'), /empty field name at position 3/)
  assert.match(error('.a'), /empty field name at position 1/)
  assert.match(error('items[0'), /"\[" at position 6 without its "\]"/)
  assert.match(error('items[x]'), /\[x\] at position 6: brackets hold an array index/)
  assert.match(error('items[-1]'), /brackets hold an array index/)
  assert.match(error('items[]'), /brackets hold/)
  assert.match(error('a]'), /"\]" at position 2 without "\["/)
  assert.match(error('[0].a'), /starts with an index/)
  assert.match(error('a[0]b'), /"b" at position 5 where "\." or "\[" must follow/)
  assert.match(error(''), /empty/)
})

test('nested fields and array elements resolve; what does not resolve is undefined, as a missing field', () => {
  const r = { customer: { address: { city: 'Oslo' }, tags: ['a', 'b'] }, items: [{ sku: 'X1' }, { sku: 'X2' }], n: 5, nil: null }
  assert.equal(get('customer.address.city', r), 'Oslo')
  assert.equal(get('items[1].sku', r), 'X2')
  assert.equal(get('customer.tags[0]', r), 'a')
  assert.deepEqual(get('customer.address', r), { city: 'Oslo' })
  for (const missing of ['customer.zip', 'items[2].sku', 'items[0].price', 'n.x', 'nil.x', 'nope.a', 'customer.tags.length', 'items.length', 'customer.tags[5]', 'customer[0]', 'customer.toString', 'customer.__proto__']) {
    assert.equal(get(missing, r), undefined, missing)
  }
  assert.equal(get('nil', r), null)
})

test('a top-level field named exactly like the path wins; otherwise the path is followed', () => {
  assert.equal(get('a.b', { 'a.b': 'literal', a: { b: 'nested' } }), 'literal')
  assert.equal(get('a.b', { a: { b: 'nested' } }), 'nested')
  assert.equal(get('_metadata.timestamp', { '_metadata.timestamp': 7 }), 7)
  // A literal key holding null still wins: null is a value, the field is there.
  assert.equal(get('a.b', { 'a.b': null, a: { b: 'nested' } }), null)
  // Quotes name a key with a dot at any depth.
  assert.equal(get('meta["trace.id"]', { meta: { 'trace.id': 't1', trace: { id: 'no' } } }), 't1')
})

test('a plain name is fieldOf: own fields only', () => {
  assert.equal(get('constructor', {}), undefined)
  assert.equal(get('toString', { a: 1 }), undefined)
  assert.equal(get('x', { x: 0 }), 0)
})

test('an exact number or a Date is a value, not an object with fields', () => {
  const r = { amount: exactNumber('12345678901234567890.5'), at: new Date(0) }
  assert.equal(get('amount.rawJSON', r), undefined)
  assert.equal(get('at.getTime', r), undefined)
  assert.equal(get('amount', r), r.amount)
})

test('setAtPath writes at the path and copies the containers on the way, never the input', () => {
  const input = { order: { total: '9.5', lines: [{ qty: '2' }] }, other: { keep: true } }
  const out: Record<string, unknown> = { ...input }
  assert.equal(setAtPath(out, fieldPath('order.lines[0].qty'), 2), true)
  assert.deepEqual(out, { order: { total: '9.5', lines: [{ qty: 2 }] }, other: { keep: true } })
  assert.deepEqual(input.order.lines[0], { qty: '2' }, 'the input is untouched')
  assert.equal(out['other'], input.other, 'objects off the path are shared')
  assert.equal(setAtPath(out, fieldPath('order.missing'), 1), false)
  assert.equal(setAtPath(out, fieldPath('order.lines[3].qty'), 1), false)
  assert.ok(!('missing' in (out['order'] as object)))
  const literal: Record<string, unknown> = { 'a.b': '1', a: { b: '2' } }
  assert.equal(setAtPath(literal, fieldPath('a.b'), 1), true)
  assert.deepEqual(literal, { 'a.b': 1, a: { b: '2' } })
})

test('fieldAt reads as fieldGetter does: own field first, then the path', () => {
  const r = { id: 1, order: { id: 7 }, 'a.b': 'literal', a: { b: 'nested' } }
  for (const name of ['id', 'order.id', 'a.b', 'order.none', 'none', 'constructor']) assert.equal(fieldAt(r, name), fieldGetter(name)(r), name)
})
