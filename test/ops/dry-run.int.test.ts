/**
 * `sluice test` without --input on a real Kafka topic: the first --limit records from the earliest
 * offsets (whatever startingOffsets says), with their key and headers, through the pipeline's steps;
 * read-only: no consumer-group offset is committed, and the sink database (a closed port here) is
 * never contacted.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createAdmin, createTopic, kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

test('sluice test reads the first records of a Kafka topic, commits nothing, needs no database', async () => {
  const topic = uniqueTopic('optools-test')
  await createTopic(topic, 2)
  await produce(topic, [
    { key: 'a', value: '{"id": 1, "amount": 5}', partition: 0, headers: { trace: 't-1' } },
    { key: 'b', value: '{"id": 2, "amount": 0}', partition: 0 },
    { key: 'c', value: '{"id": 3, ', partition: 1 },
    { key: 'd', value: '{"id": 4, "amount": 7}', partition: 1 },
    { key: 'e', value: '{"id": 5, "amount": 9}', partition: 0 },
  ])
  const pipelineId = uniqueTopic('optools-test-pipe')
  const { file } = await writePipeline((dir: string) => ({
    pipelineId,
    mode: 'streaming',
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'latest' } },
    transform: [{ type: 'filter', field: 'amount', op: 'gt', value: 0 }, { type: 'rename', mapping: { key: 'k', headers: 'h' } }],
    load: { sinkType: 'postgresql', table: 'orders', connectionParams: { host: '127.0.0.1', port: '1', database: 'none', user: 'nobody' } },
    streamingConfigJson: { checkpointLocation: `${dir}/cp`, queryName: 'q' },
  }))
  const r = await runSluice(['test', file, '--limit', '4', '--json'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; source: { partition: number; offset: string }; row?: Record<string, unknown>; code?: string })
  assert.equal(lines.length, 4, 'the limit holds across partitions')
  const at = new Map(lines.map((l) => [`${l.source.partition}@${l.source.offset}`, l]))
  assert.deepEqual(at.get('0@0')?.row, { id: 1, amount: 5, k: 'a', h: { trace: 't-1' } })
  assert.equal(at.get('0@1')?.outcome, 'filtered')
  assert.equal(at.get('1@0')?.code, 'RECORD_DECODE')
  const admin = createAdmin()
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [`sluice-${pipelineId}`] })
    const committed = (group?.topics.find((t) => t.name === topic)?.partitions ?? []).filter((p) => p.committedOffset >= 0n)
    assert.deepEqual(committed, [], 'no offset committed to the consumer group')
  } finally {
    await admin.close()
  }
})
