/**
 * Smoke test of the integration harness: the real broker from scripts/kafka.sh and the real
 * PostgreSQL answer, each through the client Sluice uses.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Consumer, type Message } from '@platformatic/kafka'
import { bootstrapBrokers, createTopic, deleteTopics, produce, uniqueTopic } from './helpers/kafka.ts'
import { withSchema } from './helpers/pg.ts'

test('Kafka: a produced message is consumed back with key, value and headers', async () => {
  const topic = uniqueTopic('smoke')
  await createTopic(topic, 1)
  await produce(topic, [{ key: 'k1', value: '{"hello":"kafka"}', headers: { source: 'smoke' } }])
  const consumer = new Consumer({ clientId: 'sluice-smoke', groupId: `smoke-${topic}`, bootstrapBrokers: bootstrapBrokers() })
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', maxWaitTime: 200 })
    let first: Message | undefined
    for await (const m of stream) {
      first = m
      break
    }
    await stream.close()
    assert.ok(first)
    assert.equal(first.topic, topic)
    assert.equal(first.offset, 0n)
    assert.equal(first.key.toString(), 'k1')
    assert.equal(first.value.toString(), '{"hello":"kafka"}')
    assert.deepEqual(
      first.headerEntries.map(([k, v]) => [k.toString(), v.toString()]),
      [['source', 'smoke']],
    )
  } finally {
    await consumer.close()
    await deleteTopics(topic)
  }
})

test('PostgreSQL: a row round-trips through a table in a private schema', async () => {
  await withSchema(async ({ schema, pool }) => {
    await pool.query('CREATE TABLE smoke (id int PRIMARY KEY, payload jsonb NOT NULL, at timestamptz NOT NULL)')
    const at = new Date('2026-11-25T12:00:00.123Z')
    await pool.query('INSERT INTO smoke (id, payload, at) VALUES ($1, $2, $3)', [1, { hello: 'postgres' }, at])
    const { rows } = await pool.query<{ id: number; payload: unknown; at: Date; s: string }>(
      'SELECT id, payload, at, current_schema() AS s FROM smoke',
    )
    assert.deepEqual(rows, [{ id: 1, payload: { hello: 'postgres' }, at, s: schema }])
  })
})
