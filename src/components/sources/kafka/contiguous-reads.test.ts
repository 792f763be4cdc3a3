import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Reader, createRecordsBatch, readRecordsBatches } from '@platformatic/kafka'
import { useContiguousReads } from './contiguous-reads.ts'

/** A record batch as the client's own writer lays it out: a DynamicBuffer of many small chunks. */
function chunkedBatch(compression?: 'gzip' | 'snappy' | 'lz4' | 'zstd'): Reader['buffer'] {
  const messages = Array.from({ length: 50 }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(i * 7) })),
    headers: new Map([[Buffer.from('h'), Buffer.from(String(i))]]),
    topic: 't',
    timestamp: BigInt(1_700_000_000_000 + i),
  }))
  return createRecordsBatch(messages, compression ? { compression } : {}).dynamicBuffer
}

test('Reader.from joins a chunked buffer into one; the decoded batches are the same, every codec', () => {
  const before = [undefined, 'gzip', 'snappy', 'lz4', 'zstd'].map((c) => readRecordsBatches(Reader.from(chunkedBatch(c as 'gzip' | undefined))))
  const input = chunkedBatch()
  assert.ok(input.buffers.length > 1, 'the writer makes a chunked buffer')
  assert.ok(Reader.from(input).buffer.buffers.length > 1, 'without the wrapper the reader walks the chunks')

  useContiguousReads()
  useContiguousReads() // idempotent
  const reader = Reader.from(input)
  assert.equal(reader.buffer.buffers.length, 1, 'the reader reads one contiguous buffer')
  assert.deepEqual(reader.buffer.buffer, input.buffer, 'the same bytes')
  const after = [undefined, 'gzip', 'snappy', 'lz4', 'zstd'].map((c) => readRecordsBatches(Reader.from(chunkedBatch(c as 'gzip' | undefined))))
  assert.deepEqual(after, before)
  assert.equal(after[0]?.[0]?.records.length, 50)
  assert.equal(after[4]?.[0]?.records[49]?.value?.toString(), JSON.stringify({ i: 49, pad: 'x'.repeat(343) }))
  // Plain Buffers and single-chunk inputs pass through untouched.
  const plain = Buffer.from([0, 0, 0, 7])
  assert.equal(Reader.from(plain).readInt32(), 7)
})
