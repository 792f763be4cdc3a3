/**
 * The relay's producer does not duplicate on a topic that is new: many dead letters, several
 * Kafka transactions of 500 rows, spread over the partitions of a DLQ topic that does not exist
 * before the run (created with dlqConfig.partitions). Read back read_committed, every dead letter
 * is there exactly once.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, produce, uniqueTopic, type TestMessage } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { EVENT_SCHEMA, TABLE_DDL, badDataPipeline, header, readTopic, topicPartitions } from './fixtures.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

test('2,400 dead letters into a new 4-partition DLQ topic: each exactly once (read_committed)', async () => {
  const source = uniqueTopic('newdlq-src')
  await createTopic(source, 1)
  const messages: TestMessage[] = []
  const t0 = Date.UTC(2026, 0, 1)
  for (let i = 0; i < 3000; i++) {
    const good = i % 5 === 0
    const value = good
      ? JSON.stringify({ id: i, code: 'c', amount: 1, label: 'l', event_time: new Date(t0 + i * 1000).toISOString(), note: 'ok' })
      : `{"id": ${i}, "broken": ` // invalid JSON: a dead letter
    messages.push({ key: `k-${i}`, value, partition: 0, headers: { seq: String(i) } })
  }
  await produce(source, messages)
  const s = await createTestSchema('newdlq')
  schemas.push(s)
  await s.pool.query(TABLE_DDL)
  const dlqTopic = uniqueTopic('newdlq') // does not exist yet
  const { file } = await writePipeline((dir: string) => badDataPipeline(s, source, dir, { dlq: 'kafka', strategy: 'drop', dlqTopic, dlqPartitions: 4, maxOffsets: 3000 }), { 'event.json': EVENT_SCHEMA })
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  assert.equal(await topicPartitions(dlqTopic), 4)
  const records = await readTopic(dlqTopic)
  const seen = new Map<number, number>()
  const partitions = new Set<number>()
  for (const r of records) {
    const offset = Number(header(r.headers, 'sluice.source.offset'))
    seen.set(offset, (seen.get(offset) ?? 0) + 1)
    partitions.add(r.partitionNumber)
    assert.equal(header(r.headers, 'seq'), String(offset), 'original headers kept')
  }
  const twice = [...seen].filter(([, n]) => n > 1).map(([o]) => o)
  assert.deepEqual(twice.slice(0, 20), [], 'no dead letter twice')
  const expected = messages.flatMap((_, i) => (i % 5 === 0 ? [] : [i]))
  assert.equal(records.length, expected.length, 'every dead letter once')
  assert.deepEqual([...seen.keys()].sort((a, b) => a - b), expected)
  assert.ok(partitions.size > 1, 'spread over several partitions of the new topic')
})
