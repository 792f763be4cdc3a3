// The aggregate step inside the batch runner (memory source and sink): partial rows and merge
// rules reach the sink, and the accounting stays per source record.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemorySink, MemorySource, memoryQuery } from './testkit.ts'

const spec = { groupBy: ['k', 'reject'], aggregations: { n: { fn: 'count' as const }, total: { fn: 'sum' as const, field: 'v' } } }

test('each batch hands one partial row per group and the merge rules to the sink; written counts source records', async () => {
  const records = ['a', 'b', 'a', 'a', 'b', 'c'].map((k, i) => JSON.stringify({ k, reject: false, v: i }))
  const sink = new MemorySink()
  const { run } = await memoryQuery(new MemorySource([records]), sink, { maxRecords: 3, aggregate: spec })
  const summary = await run()
  assert.equal(summary.batches, 2)
  assert.deepEqual(sink.rows, [
    { k: 'a', reject: false, n: 2, total: '2' },
    { k: 'b', reject: false, n: 1, total: '1' },
    { k: 'a', reject: false, n: 1, total: '3' },
    { k: 'b', reject: false, n: 1, total: '4' },
    { k: 'c', reject: false, n: 1, total: '5' },
  ])
  assert.deepEqual(sink.merges, [{ n: 'count', total: 'sum' }, { n: 'count', total: 'sum' }])
  assert.deepEqual([...sink.tracker.values()], [3, 3], 'record_count counts source records')
  assert.equal(summary.written, 6)
  assert.equal(summary.dlq, 0)
})

test('a refused aggregate row dead-letters every record folded into it; unaggregatable records are dead letters', async () => {
  const records = [
    JSON.stringify({ k: 'a', reject: false, v: 1 }),
    JSON.stringify({ k: 'b', reject: true, v: 2 }),
    JSON.stringify({ k: 'b', reject: true, v: 3 }),
    JSON.stringify({ reject: false, v: 4 }),
    JSON.stringify({ k: 'a', reject: false, v: 'x' }),
  ]
  const sink = new MemorySink()
  const { run } = await memoryQuery(new MemorySource([records]), sink, { aggregate: spec })
  const summary = await run()
  assert.deepEqual(sink.rows, [{ k: 'a', reject: false, n: 1, total: '1' }])
  const dlq = (sink.side['dlq'] ?? []).map((r) => [r['sluice.source.offset'], r['sluice.error.code']])
  assert.deepEqual(
    dlq.sort((x, y) => Number(x[0]) - Number(y[0])),
    [
      ['1', 'RECORD_COLUMN'],
      ['2', 'RECORD_COLUMN'],
      ['3', 'RECORD_TRANSFORM'],
      ['4', 'RECORD_TRANSFORM'],
    ],
  )
  assert.equal(summary.written, 1)
  assert.equal(summary.dlq, 4)
  assert.equal(summary.recordsRead, 5)
})
