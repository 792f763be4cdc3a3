import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { RecordsBatch } from '@platformatic/kafka'
import type { SourceRecord } from '../../../api/record.ts'
import { appendRecords, type PartitionRange } from './records.ts'

const TXN = 1 << 4
const CONTROL = 1 << 5

/** A batch of `n` records starting at `first`; values are "v<offset>". */
function batch(first: number, n: number, opts: { producerId?: number; attributes?: number; control?: 'abort' | 'commit'; ts?: number; headerless?: boolean } = {}): RecordsBatch {
  const control = opts.control
  const records = control
    ? [{ length: 0, attributes: 0, timestampDelta: 0n, offsetDelta: 0, key: Buffer.from([0, 0, 0, control === 'abort' ? 0 : 1]), value: Buffer.alloc(6), headers: [] }]
    : Array.from({ length: n }, (_, i) => ({
        length: 0,
        attributes: 0,
        timestampDelta: BigInt(i),
        offsetDelta: i,
        key: Buffer.from(`k${first + i}`),
        value: Buffer.from(`v${first + i}`),
        headers: opts.headerless ? [] : [[Buffer.from('h'), Buffer.from('x')] as [Buffer, Buffer]],
      }))
  return {
    firstOffset: BigInt(first),
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes: (opts.attributes ?? 0) | (control ? CONTROL | TXN : 0),
    lastOffsetDelta: (control ? 1 : n) - 1,
    firstTimestamp: BigInt(opts.ts ?? 1000),
    maxTimestamp: BigInt((opts.ts ?? 1000) + n),
    producerId: BigInt(opts.producerId ?? -1),
    producerEpoch: 0,
    firstSequence: 0,
    records,
  }
}

const range = (from: number, to: number): PartitionRange => ({ key: 't/0', topic: 't', partition: 0, from: BigInt(from), to: BigInt(to) })
const vals = (out: SourceRecord[]): string[] => out.map((r) => r.value?.toString() ?? '')

test('records of [from, to) only, with offsets, timestamps and headers', () => {
  const out: SourceRecord[] = []
  const next = appendRecords(range(3, 8), [batch(0, 5), batch(5, 5)], null, out)
  assert.deepEqual(vals(out), ['v3', 'v4', 'v5', 'v6', 'v7'])
  assert.deepEqual(out.map((r) => r.offset), ['3', '4', '5', '6', '7'])
  assert.equal(next, 8n, 'the next offset stops at `to`')
  assert.equal(out[0]?.timestamp, 1003)
  assert.equal(out[0]?.timestampType, 0, 'create time (Spark timestampType 0)')
  assert.deepEqual(out[0]?.headers, [['h', Buffer.from('x')]])
  assert.equal(out[0]?.partition, 't/0')
  assert.equal(out[0]?.partitionNumber, 0)
})

test('the next offset passes every batch seen, even without records in range', () => {
  const out: SourceRecord[] = []
  assert.equal(appendRecords(range(10, 100), [batch(8, 4)], null, out), 12n)
  assert.deepEqual(vals(out), ['v10', 'v11'])
  assert.equal(appendRecords(range(10, 100), [], null, []), 10n, 'no batches: no progress')
})

test('log-append time uses the batch max timestamp', () => {
  const out: SourceRecord[] = []
  appendRecords(range(0, 10), [batch(0, 2, { attributes: 1 << 3, ts: 5000 })], null, out)
  assert.deepEqual(out.map((r) => r.timestamp), [5002, 5002])
  assert.deepEqual(out.map((r) => r.timestampType), [1, 1], 'log-append time (Spark timestampType 1)')
})

test('control records are dropped; committed transactions are kept', () => {
  const out: SourceRecord[] = []
  const next = appendRecords(range(0, 100), [batch(0, 3, { producerId: 7, attributes: TXN }), batch(3, 1, { producerId: 7, control: 'commit' }), batch(4, 2)], [], out)
  assert.deepEqual(vals(out), ['v0', 'v1', 'v2', 'v4', 'v5'])
  assert.equal(next, 6n)
})

test('aborted transactions are dropped, other producers interleaved are kept', () => {
  const out: SourceRecord[] = []
  const batches = [
    batch(0, 2, { producerId: 1, attributes: TXN }),
    batch(2, 2, { producerId: 2, attributes: TXN }),
    batch(4, 1, { producerId: 1, control: 'abort' }),
    batch(5, 1, { producerId: 2, control: 'commit' }),
    batch(6, 2, { producerId: 1, attributes: TXN }),
    batch(8, 1, { producerId: 1, control: 'commit' }),
  ]
  appendRecords(range(0, 100), batches, [{ producerId: 1n, firstOffset: 0n }], out)
  assert.deepEqual(vals(out), ['v2', 'v3', 'v6', 'v7'])
})

test('an aborted transaction whose marker is not in this response stays dropped', () => {
  const out: SourceRecord[] = []
  const next = appendRecords(range(0, 100), [batch(0, 3, { producerId: 1, attributes: TXN }), batch(3, 3, { producerId: 1, attributes: TXN })], [{ producerId: 1n, firstOffset: 0n }], out)
  assert.deepEqual(vals(out), [])
  assert.equal(next, 6n)
})

test('an abort marker before `from` closes its transaction for later batches of the producer', () => {
  const out: SourceRecord[] = []
  const batches = [batch(0, 2, { producerId: 1, attributes: TXN }), batch(2, 1, { producerId: 1, control: 'abort' }), batch(3, 2, { producerId: 1, attributes: TXN })]
  appendRecords(range(3, 100), batches, [{ producerId: 1n, firstOffset: 0n }], out)
  assert.deepEqual(vals(out), ['v3', 'v4'])
})

test('offsets beyond 2^53 stay exact', () => {
  const out: SourceRecord[] = []
  const big = 2n ** 60n
  const b = { ...batch(0, 2), firstOffset: big }
  appendRecords({ key: 't/0', topic: 't', partition: 0, from: big + 1n, to: big + 5n }, [b], null, out)
  assert.deepEqual(out.map((r) => r.offset), [(big + 1n).toString()])
})

test('records without headers share one empty, frozen list; headers are never lost', () => {
  const out: SourceRecord[] = []
  appendRecords(range(0, 6), [batch(0, 3, { headerless: true }), batch(3, 3)], null, out)
  assert.deepEqual(out.map((r) => r.headers.length), [0, 0, 0, 1, 1, 1])
  assert.equal(out[0]?.headers, out[2]?.headers, 'one shared list')
  assert.ok(Object.isFrozen(out[0]?.headers), 'nobody can add to the shared list')
  assert.deepEqual(out[3]?.headers, [['h', Buffer.from('x')]])
  assert.notEqual(out[3]?.headers, out[4]?.headers, 'a list of its own per record with headers')
})
