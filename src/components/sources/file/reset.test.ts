import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../../errors.ts'
import { fileResetMoves } from './reset.ts'

const stored = { 'file:a.ndjson': 'done', 'file:b.ndjson': 'done' }
const eligible = { 'file:a.ndjson': 'done', 'file:b.ndjson': 'done', 'file:c.ndjson': 'done' }

test('earliest forgets every stored file; latest marks every eligible file done', () => {
  assert.deepEqual(fileResetMoves({ kind: 'earliest' }, { ...stored, 'gen/0': '5' }, eligible), { 'file:a.ndjson': null, 'file:b.ndjson': null })
  assert.deepEqual(fileResetMoves({ kind: 'latest' }, stored, eligible), eligible)
  assert.deepEqual(fileResetMoves({ kind: 'earliest' }, {}, eligible), {})
})

test('a position map sets files to done or forgets them (null)', () => {
  assert.deepEqual(fileResetMoves({ kind: 'positions', positions: { 'file:b.ndjson': null, 'file:c.ndjson': 'done' } }, stored, eligible), { 'file:b.ndjson': null, 'file:c.ndjson': 'done' })
})

test('a time, a key that is no file and a value other than done or null are refused, saying what is allowed', () => {
  const refused = (f: () => unknown, message: RegExp): void => {
    assert.throws(f, (err: unknown) => isSluiceError(err, 'RESET_REFUSED') && message.test(err.message))
  }
  refused(() => fileResetMoves({ kind: 'time', ms: 0 }, stored, eligible), /cannot be reset to a time .* use earliest, latest, or a position map such as \{"file:/)
  refused(() => fileResetMoves({ kind: 'positions', positions: { 'orders/0': '1' } }, stored, eligible), /--to at "orders\/0": not a file of this source/)
  refused(() => fileResetMoves({ kind: 'positions', positions: { 'file:': 'done' } }, stored, eligible), /--to at "file:": not a file/)
  refused(() => fileResetMoves({ kind: 'positions', positions: { 'file:a.ndjson': '3' } }, stored, eligible), /--to at "file:a.ndjson": "3" is not a file position; use "done" .* or null/)
})
