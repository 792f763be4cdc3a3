/**
 * Puts N benchmark events on a topic, fast: messages go out in large batches with several
 * requests in flight (no per-message await). A topic that already holds exactly N records is
 * reused, so repeated runs measure the pipeline, not the producer.
 */
import { Admin, Producer } from '@platformatic/kafka'
import { type EventShape, PLAIN, shapeMessage } from './events.ts'

/** Where the benchmark's broker is. */
export const bootstrap: string[] = (process.env.KAFKA_BOOTSTRAP ?? `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}`).split(',')

/** Records per partition of `topic` (high watermarks summed), or null when the topic does not exist. */
export async function topicRecords(topic: string): Promise<number | null> {
  const admin = new Admin({ clientId: 'sluice-bench-admin', bootstrapBrokers: bootstrap, retries: 3 })
  try {
    const names = await admin.listTopics()
    if (!names.includes(topic)) return null
    const meta = await admin.metadata({ topics: [topic], forceUpdate: true })
    const count = meta.topics.get(topic)?.partitionsCount ?? 0
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n }))
    const r = await admin.listOffsets({ topics: [{ name: topic, partitions }], isolationLevel: 1 })
    return (r[0]?.partitions ?? []).reduce((a, p) => a + Number(p.offset), 0)
  } finally {
    await admin.close()
  }
}

/** Creates `topic` with `partitions` partitions and waits for every leader. */
export async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'sluice-bench-admin', bootstrapBrokers: bootstrap, retries: 3 })
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
    for (let i = 0; i < 100; i++) {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true })
      const t = md.topics.get(topic)
      if (t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`topic ${topic} has no leader for every partition`)
  } finally {
    await admin.close()
  }
}

/** Deletes a topic (used when a leftover topic holds the wrong number of records). */
async function deleteTopic(topic: string): Promise<void> {
  const admin = new Admin({ clientId: 'sluice-bench-admin', bootstrapBrokers: bootstrap, retries: 3 })
  try {
    await admin.deleteTopics({ topics: [topic] })
    await new Promise((r) => setTimeout(r, 2000))
  } finally {
    await admin.close()
  }
}

/** Ensures `topic` holds events 0..n-1 of `shape` (key, value and partition as the shape says: by default key i, round-robin over `partitions`); returns whether it produced them now (and how long it took). */
export async function ensureTopic(topic: string, n: number, partitions: number, shape: EventShape = PLAIN): Promise<{ produced: boolean; seconds: number }> {
  const existing = await topicRecords(topic)
  if (existing === n) return { produced: false, seconds: 0 }
  if (existing !== null) await deleteTopic(topic)
  await createTopic(topic, partitions)
  const started = performance.now()
  // Idempotent (acks all, at most 5 requests in flight): a retried request after a timeout must not
  // append its batch twice (with 100 partitions a non-idempotent producer wrote 1,007,120 records for 1M).
  const producer = new Producer({ clientId: 'sluice-bench-producer', bootstrapBrokers: bootstrap, acks: -1, retries: 5, idempotent: true })
  try {
    // A producer batch per partition must stay under the broker's message.max.bytes (1 MiB by default).
    const valueBytes = Buffer.byteLength(shapeMessage(shape, 0, partitions).value)
    const perRequest = Math.max(partitions, Math.min(4000, Math.floor((partitions * 900_000) / valueBytes)))
    // With 100 partitions and 5 requests in flight the idempotent producer still appended some
    // batches twice (1,006,000 records for 1M, 2026-12-03): one request at a time there.
    const maxInFlight = partitions > 16 ? 1 : 5
    const inFlight = new Set<Promise<unknown>>()
    for (let lo = 0; lo < n; lo += perRequest) {
      const messages = []
      for (let i = lo; i < Math.min(n, lo + perRequest); i++) {
        const m = shapeMessage(shape, i, partitions)
        messages.push({ topic, key: Buffer.from(m.key), value: Buffer.from(m.value), partition: m.partition })
      }
      const p: Promise<unknown> = producer.send({ messages, compression: 'none' }).finally(() => inFlight.delete(p))
      inFlight.add(p)
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
  } finally {
    await producer.close()
  }
  const seconds = (performance.now() - started) / 1000
  const got = await topicRecords(topic)
  if (got !== n) throw new Error(`produced ${n} records but the topic holds ${got}`)
  return { produced: true, seconds }
}
