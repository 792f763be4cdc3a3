import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fitResponse, partitionFetchBytes, type ReadPartition } from './reader.ts'

const MiB = 1024 * 1024

test('a partition fetch asks for what the rest of its range needs, between min(configured, 1 MiB) and the configured size', () => {
  // 8 MiB configured, 12,500 offsets of ~200 bytes left: ~3 MiB (+25 %), not 8 MiB.
  assert.equal(partitionFetchBytes(8 * MiB, 12_500n, 200), Math.ceil(12_500 * 200 * 1.25))
  // Never below 1 MiB when more is configured, whatever little is left.
  assert.equal(partitionFetchBytes(8 * MiB, 3n, 200), MiB)
  // Never above the configured size.
  assert.equal(partitionFetchBytes(8 * MiB, 1_000_000n, 200), 8 * MiB)
  // A configured size at or below 1 MiB, or no estimate yet, is used as it is.
  assert.equal(partitionFetchBytes(MiB, 3n, 200), MiB)
  assert.equal(partitionFetchBytes(64 * 1024, 1_000_000n, 200), 64 * 1024)
  assert.equal(partitionFetchBytes(8 * MiB, 12_500n, undefined), 8 * MiB)
})

test('with the partition\'s record batches known, a fetch asks for what the range needs, down to twice its largest batch (and 64 KiB)', () => {
  // 100 partitions of ~500 offsets of 217 bytes per batch: ~135 KB, not 1 MiB (90 % of it decoded for nothing).
  assert.equal(partitionFetchBytes(MiB, 500n, 217, 9_000), Math.ceil(500 * 217 * 1.25))
  // Never below twice the largest batch seen, nor below 64 KiB.
  assert.equal(partitionFetchBytes(MiB, 3n, 217, 200_000), 400_000)
  assert.equal(partitionFetchBytes(MiB, 3n, 217, 9_000), 64 * 1024)
  // A batch larger than half the configured size: the configured size, as before.
  assert.equal(partitionFetchBytes(MiB, 3n, 217, 700_000), MiB)
  // A partition that made no progress in the last round (its next batch may be larger than asked) gets the configured size.
  assert.equal(partitionFetchBytes(MiB, 500n, 217, 9_000, true), MiB)
})

test('a fetch round asks the partitions that fit in the response, least recently asked first, at least one', () => {
  const part = (partition: number, asked?: number): ReadPartition => ({
    info: { key: `t/${partition}`, topic: 't', topicId: 'id', partition, leader: 1 },
    next: 0n,
    to: 100n,
    idle: 0,
    ...(asked === undefined ? {} : { asked }),
  })
  const names = (asks: ReadonlyArray<{ p: ReadPartition }>): number[] => asks.map((a) => a.p.info.partition)
  // Never asked first, then the oldest ask; a later smaller one still fills the response.
  const asks = [
    { p: part(0, 5), bytes: 400 },
    { p: part(1), bytes: 600 },
    { p: part(2, 3), bytes: 300 },
    { p: part(3, 4), bytes: 100 },
  ]
  assert.deepEqual(names(fitResponse(asks, 1000)), [1, 2, 3])
  // One partition larger than the whole response is still asked, alone.
  assert.deepEqual(names(fitResponse([{ p: part(0), bytes: 5000 }, { p: part(1, 1), bytes: 10 }], 1000)), [0])
})
