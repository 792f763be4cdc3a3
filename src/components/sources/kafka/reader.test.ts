import { test } from 'node:test'
import assert from 'node:assert/strict'
import { partitionFetchBytes } from './reader.ts'

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
