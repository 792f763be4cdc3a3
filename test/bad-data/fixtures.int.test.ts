/**
 * The checkers of the bad-data tests read what the relay committed, all of it: a transaction whose
 * EndTxn has returned but whose commit markers are not written yet (the moment right after a run's
 * last relay round) is waited for, not cut off at the last stable offset.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Producer } from '@platformatic/kafka'
import { bootstrapBrokers, createTopic, deleteTopics, uniqueTopic } from '../helpers/kafka.ts'
import { readTopic } from './fixtures.ts'

test('readTopic waits for a transaction still open on the topic instead of reading up to its last stable offset', async () => {
  const topic = uniqueTopic('mk-open-txn')
  await createTopic(topic, 1)
  const producer = new Producer({ clientId: 'sluice-test-open-txn', bootstrapBrokers: bootstrapBrokers(), acks: -1, idempotent: true, transactionalId: uniqueTopic('txn') })
  try {
    // A committed record, then a transaction that is open while the read starts (as one whose
    // markers are still being written looks to a reader), committed a moment later.
    await producer.send({ messages: [{ topic, partition: 0, value: Buffer.from('plain') }] })
    const tx = await producer.beginTransaction()
    await tx.send({ messages: [{ topic, partition: 0, value: Buffer.from('late-commit') }] })
    const reading = readTopic(topic)
    await new Promise((r) => setTimeout(r, 500))
    await tx.commit()
    assert.deepEqual((await reading).map((r) => r.value?.toString()), ['plain', 'late-commit'])
  } finally {
    await producer.close()
    await deleteTopics(topic)
  }
})
