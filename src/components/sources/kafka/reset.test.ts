import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../../errors.ts'
import { kafkaResetMoves, type ResetFacts } from './reset.ts'

const facts: ResetFacts = {
  bounds: new Map([
    ['orders/0', { earliest: 0n, latest: 100n }],
    ['orders/1', { earliest: 40n, latest: 90n }],
  ]),
}

test('earliest and latest move every partition of the topics to its log start or end', () => {
  assert.deepEqual(kafkaResetMoves({ kind: 'earliest' }, facts), { 'orders/0': '0', 'orders/1': '40' })
  assert.deepEqual(kafkaResetMoves({ kind: 'latest' }, facts), { 'orders/0': '100', 'orders/1': '90' })
})

test('a time takes the first offset at or after it; none that late (or past the stable end) is the end; below the log start is the start', () => {
  const atTime = new Map<string, bigint | null>([
    ['orders/0', 57n],
    ['orders/1', null],
  ])
  assert.deepEqual(kafkaResetMoves({ kind: 'time', ms: 1 }, { ...facts, atTime }), { 'orders/0': '57', 'orders/1': '90' })
  const odd = new Map<string, bigint | null>([
    ['orders/0', 120n],
    ['orders/1', 10n],
  ])
  assert.deepEqual(kafkaResetMoves({ kind: 'time', ms: 1 }, { ...facts, atTime: odd }), { 'orders/0': '100', 'orders/1': '40' })
  assert.deepEqual(kafkaResetMoves({ kind: 'time', ms: 1 }, { ...facts, atTime: new Map([['orders/0', -1n]]) }), { 'orders/0': '100', 'orders/1': '90' })
})

test('a position map moves only the partitions it names; -2 and -1 are earliest and latest', () => {
  assert.deepEqual(kafkaResetMoves({ kind: 'positions', positions: { 'orders/1': '50' } }, facts), { 'orders/1': '50' })
  assert.deepEqual(kafkaResetMoves({ kind: 'positions', positions: { 'orders/0': '-1', 'orders/1': '-2' } }, facts), { 'orders/0': '100', 'orders/1': '40' })
  assert.deepEqual(kafkaResetMoves({ kind: 'positions', positions: { 'orders/0': '100', 'orders/1': '40' } }, facts), { 'orders/0': '100', 'orders/1': '40' })
})

function refusal(positions: Record<string, string | null>, message: RegExp, f: ResetFacts = facts): void {
  assert.throws(
    () => kafkaResetMoves({ kind: 'positions', positions }, f),
    (err: unknown) => isSluiceError(err, 'RESET_REFUSED') && !err.retryable && message.test(err.message),
  )
}

test('a position map is refused, naming the partition and value, for an unknown partition, a non-offset or an offset outside the log', () => {
  refusal({ 'orders/2': '0' }, /--to at "orders\/2": the pipeline's topics have no such partition \(partition keys are topic\/partition: orders\/0, orders\/1\)/)
  refusal({ other: '0' }, /no such partition .*: the topics have no partitions/, { bounds: new Map() })
  refusal({ 'orders/0': 'done' }, /--to at "orders\/0": "done" is not an offset; a Kafka partition takes an offset from 0 to 100/)
  refusal({ 'orders/0': null }, /"orders\/0": null is not an offset/)
  refusal({ 'orders/1': '39' }, /--to at "orders\/1": offset 39 is outside the partition's log, which holds offsets 40 to 90/)
  refusal({ 'orders/1': '91' }, /offset 91 is outside/)
})
