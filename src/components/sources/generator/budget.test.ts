import { test } from 'node:test'
import assert from 'node:assert/strict'
import { partitionShare, takeLowest } from './budget.ts'

test('partitionShare counts the sequence numbers of a partition below n', () => {
  // partitions 3: sequences 0,3,6 -> p0; 1,4,7 -> p1; 2,5 -> p2 (n = 8)
  assert.deepEqual([0, 1, 2].map((p) => partitionShare(8, p, 3)), [3, 3, 2])
  assert.deepEqual([0, 1, 2].map((p) => partitionShare(0, p, 3)), [0, 0, 0])
  assert.deepEqual([0, 1, 2].map((p) => partitionShare(1, p, 3)), [1, 0, 0])
})

test('takeLowest takes the lowest sequence numbers within the caps', () => {
  const inf = [Infinity, Infinity, Infinity]
  assert.deepEqual(takeLowest(9, [0, 0, 0], inf), [3, 3, 3])
  assert.deepEqual(takeLowest(10, [0, 0, 0], inf), [4, 3, 3])
  assert.deepEqual(takeLowest(2, [0, 0, 0], inf), [1, 1, 0])
  // behind partitions catch up first
  assert.deepEqual(takeLowest(4, [5, 2, 3], inf), [5, 5, 4])
  // caps: what one partition cannot take goes to the others
  assert.deepEqual(takeLowest(10, [0, 0, 0], [1, 100, 100]), [1, 5, 4])
  assert.deepEqual(takeLowest(100, [0, 0, 0], [1, 2, 3]), [1, 2, 3])
  assert.deepEqual(takeLowest(0, [0, 0, 0], [1, 2, 3]), [0, 0, 0])
  assert.deepEqual(takeLowest(Infinity, [1, 0, 0], [5, 0, 7]), [5, 0, 7])
})
