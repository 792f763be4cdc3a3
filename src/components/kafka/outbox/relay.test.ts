import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nullLogger } from '../../../api/component.ts'
import type { DeadLetterWriter } from '../../../api/writer.ts'
import { plaintextConnection } from '../connection.ts'
import { OutboxRelay, relayTransactionalId, relayingWriter } from './relay.ts'
import { outboxIdentity, relayReadSettings } from './tail.ts'

test('the transactional id is stable per pipeline (a restarted relay fences the old one)', () => {
  assert.equal(relayTransactionalId('orders'), 'sluice-dlq-orders')
  assert.equal(relayTransactionalId('orders'), relayTransactionalId('orders'))
})

test('an outbox identity joins the id and the creation time', () => {
  assert.equal(outboxIdentity('12', 3, '2026-01-01T00:00:00.000Z'), '12:3|2026-01-01T00:00:00.000Z')
})

test('relayingWriter delegates the writes and relays after the commit; a closed relay does nothing', async () => {
  const calls: string[] = []
  const router: DeadLetterWriter<string> = {
    write: async (_tx, batchId) => {
      calls.push(`side ${batchId}`)
    },
  }
  let queried = 0
  const relay = new OutboxRelay({
    pipelineId: 'p',
    kafka: plaintextConnection(['127.0.0.1:1']),
    database: () => ({
      schema: 'public',
      driver: {
        kind: 'pg',
        async query() {
          queried++
          return { rows: [], rowCount: 0, columns: [] }
        },
        transaction: () => Promise.reject(new Error('unused')),
        close: async () => {},
      },
    }),
    logger: nullLogger,
  })
  const wrapped = relayingWriter(router, relay)
  await wrapped.write('tx', 4, [], [])
  await wrapped.afterCommit?.(new AbortController().signal)
  assert.equal(queried, 1, 'the relay looked for pending rows (none: no Kafka connection made)')
  await wrapped.close?.()
  assert.equal(queried, 2, 'close makes a last attempt')
  await wrapped.afterCommit?.(new AbortController().signal)
  assert.equal(queried, 2, 'after close the relay does nothing')
  assert.deepEqual(calls, ['side 4'])
})

test('the relay reads with the shared reader settings: its own timeouts and fetch sizes, read_committed, group-less id', () => {
  const s = relayReadSettings(plaintextConnection(['127.0.0.1:9092']), 'sluice-dlq-orders-check')
  assert.deepEqual(
    { ...s, connection: s.connection.bootstrapBrokers },
    {
      connection: ['127.0.0.1:9092'],
      clientId: 'sluice-dlq-orders-check',
      groupId: 'sluice-dlq-orders-check',
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 15_000,
      fetchMaxBytes: 16 * 1024 * 1024,
      partitionMaxBytes: 4 * 1024 * 1024,
      fetchMaxWaitMs: 100,
      isolationLevel: 1,
    },
  )
})
