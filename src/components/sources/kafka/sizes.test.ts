import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RecordSizes } from './sizes.ts'

test('the estimate is bytes per record seen; offsets without a record (transaction markers) teach nothing', () => {
  const sizes = new RecordSizes()
  sizes.observe('t/0', 640, 10)
  assert.equal(sizes.perOffset.get('t/0'), 64)
  // A range holding only a commit marker: before, this made the partition cost 0 bytes an offset.
  sizes.observe('t/0', 0, 0)
  assert.equal(sizes.perOffset.get('t/0'), 64)
  sizes.observe('t/1', 0, 0)
  assert.equal(sizes.perOffset.has('t/1'), false)
  // Records of no bytes (empty key and value) are an estimate of 0, not an absence of one.
  sizes.observe('t/1', 0, 5)
  assert.equal(sizes.perOffset.get('t/1'), 0)
})
