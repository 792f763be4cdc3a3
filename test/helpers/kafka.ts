/**
 * Kafka helpers for integration tests: a real broker (scripts/kafka.sh, started by
 * scripts/with-kafka.ts) at KAFKA_BOOTSTRAP, default 127.0.0.1:${KAFKA_PORT:-9092}.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Admin, Producer, type CompressionAlgorithmValue } from '@platformatic/kafka'

/** Bootstrap address of the test broker ("host:port", comma-separated for several). */
export const kafkaBootstrap: string = process.env.KAFKA_BOOTSTRAP ?? `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}`

const repo = fileURLToPath(new URL('../../', import.meta.url))
const testUsers: Record<string, string> = Object.fromEntries(
  readFileSync(new URL('../../scripts/kafka/test-users.env', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] as string, process.env[m[1] as string] ?? (m[2] as string)]),
)
const basePort = Number(process.env.KAFKA_PORT ?? '9092')

/**
 * The secured listeners of the test broker (scripts/kafka.sh; with-kafka.ts exports these): SASL_SSL
 * (PLAIN, SCRAM-SHA-256/512), SSL with a required client certificate, and SSL with a certificate for
 * another host name, all signed by the private CA in `pki` (scripts/test-pki.sh).
 */
export const securedKafka = {
  saslSsl: process.env.KAFKA_SASL_SSL_BOOTSTRAP ?? `127.0.0.1:${basePort + 2}`,
  ssl: process.env.KAFKA_SSL_BOOTSTRAP ?? `127.0.0.1:${basePort + 3}`,
  wrongHost: process.env.KAFKA_WRONGHOST_BOOTSTRAP ?? `127.0.0.1:${basePort + 4}`,
  pki: process.env.SLUICE_TEST_PKI ?? `${repo}.cache/pki`,
  scram: { username: testUsers['KAFKA_TEST_SCRAM_USER'] ?? '', password: testUsers['KAFKA_TEST_SCRAM_PASSWORD'] ?? '' },
  plain: { username: testUsers['KAFKA_TEST_PLAIN_USER'] ?? '', password: testUsers['KAFKA_TEST_PLAIN_PASSWORD'] ?? '' },
} as const

export type SecuredKind = 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN' | 'SSL'

/**
 * Pipeline `kafka.*` options (the source's connectionParams or a Kafka DLQ's) for a secured listener:
 * SASL_SSL with the given mechanism and the test user, or SSL with the test client certificate.
 */
export function securedParams(kind: SecuredKind): Record<string, string> {
  const ca = `${securedKafka.pki}/ca.crt`
  if (kind === 'SSL') {
    return {
      'kafka.bootstrap.servers': securedKafka.ssl,
      'kafka.security.protocol': 'SSL',
      'kafka.ssl.ca.location': ca,
      'kafka.ssl.certificate.location': `${securedKafka.pki}/client.crt`,
      'kafka.ssl.key.location': `${securedKafka.pki}/client.key`,
    }
  }
  const user = kind === 'PLAIN' ? securedKafka.plain : securedKafka.scram
  const module = kind === 'PLAIN' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule'
  return {
    'kafka.bootstrap.servers': securedKafka.saslSsl,
    'kafka.security.protocol': 'SASL_SSL',
    'kafka.sasl.mechanism': kind,
    'kafka.sasl.jaas.config': `${module} required username="${user.username}" password="${user.password}";`,
    'kafka.ssl.ca.location': ca,
  }
}

/** The bootstrap list as the client wants it. */
export function bootstrapBrokers(): string[] {
  return kafkaBootstrap.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}

/** A topic name no other test (or earlier run) uses. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

/** A short-lived admin client; the caller closes it. */
export function createAdmin(): Admin {
  return new Admin({ clientId: 'sluice-test-admin', bootstrapBrokers: bootstrapBrokers(), retries: 3 })
}

/** Creates a topic with `partitions` partitions (replication factor 1) and waits until it is usable. */
export async function createTopic(name: string, partitions = 1, configs: Record<string, string> = {}): Promise<void> {
  const admin = createAdmin()
  try {
    await admin.createTopics({
      topics: [name],
      partitions,
      replicas: 1,
      configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
    })
    // Metadata propagates asynchronously even on one node: wait until every partition has a leader.
    for (let i = 0; i < 50; i++) {
      const md = await admin.metadata({ topics: [name], forceUpdate: true })
      const t = md.topics.get(name)
      if (t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`topic ${name} has no leader for every partition after 5 s`)
  } finally {
    await admin.close()
  }
}

/** Deletes topics (best effort: tests use unique names, so leftovers are harmless). */
export async function deleteTopics(...names: string[]): Promise<void> {
  const admin = createAdmin()
  try {
    await admin.deleteTopics({ topics: names })
  } catch {
    // ignore: cleanup only
  } finally {
    await admin.close()
  }
}

/** One message to produce; strings are sent as UTF-8. */
export interface TestMessage {
  key?: string | Buffer | null
  value?: string | Buffer | null
  headers?: Record<string, string | Buffer>
  partition?: number
  /** Epoch ms; the broker's create time is used when absent. */
  timestamp?: number
}

export interface ProduceOptions {
  compression?: CompressionAlgorithmValue
  /** Send in one transaction and commit it (or abort it when `abort` is set). */
  transactional?: boolean
  abort?: boolean
  /** Messages per produce request (default 1,000). */
  batchSize?: number
  /** Let the broker create a topic that does not exist yet (as a user's first producer does). */
  autocreateTopics?: boolean
}

const toBuf = (v: string | Buffer | null | undefined): Buffer | undefined =>
  v === null || v === undefined ? undefined : typeof v === 'string' ? Buffer.from(v) : v

/** Produces `messages` to `topic` with acks=all, in order, `batchSize` per request. */
export async function produce(topic: string, messages: readonly TestMessage[], options: ProduceOptions = {}): Promise<void> {
  const producer = new Producer({
    clientId: 'sluice-test-producer',
    bootstrapBrokers: bootstrapBrokers(),
    acks: -1,
    retries: 3,
    // Idempotent: a retried produce request (leadership still settling on a new topic) must not
    // write its messages twice.
    idempotent: true,
    ...(options.autocreateTopics ? { autocreateTopics: true } : {}),
    ...(options.transactional ? { transactionalId: uniqueTopic('txn') } : {}),
  })
  try {
    const batch = options.batchSize ?? 1000
    const toSend = messages.map((m) => ({
      topic,
      key: toBuf(m.key),
      value: toBuf(m.value),
      ...(m.partition === undefined ? {} : { partition: m.partition }),
      ...(m.timestamp === undefined ? {} : { timestamp: BigInt(m.timestamp) }),
      ...(m.headers ? { headers: new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), toBuf(v) ?? Buffer.alloc(0)])) } : {}),
    }))
    const compression = options.compression ?? 'none'
    if (options.transactional) {
      const tx = await producer.beginTransaction()
      for (let i = 0; i < toSend.length; i += batch) {
        await tx.send({ messages: toSend.slice(i, i + batch), compression })
      }
      if (options.abort) await tx.abort()
      else await tx.commit()
      // EndTxn returns before every partition has its marker: wait until read_committed sees it all.
      await waitForStableOffsets(topic)
    } else {
      for (let i = 0; i < toSend.length; i += batch) {
        await producer.send({ messages: toSend.slice(i, i + batch), compression })
      }
    }
  } finally {
    await producer.close()
  }
}

/** Waits until the last stable offset of every partition of `topic` reaches its high watermark (no open transaction). */
export async function waitForStableOffsets(topic: string, timeoutMs = 10_000): Promise<void> {
  const admin = createAdmin()
  try {
    const md = await admin.metadata({ topics: [topic] })
    const count = md.topics.get(topic)?.partitionsCount ?? 0
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n }))
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const [committed, all] = await Promise.all(
        [1, 0].map((isolationLevel) => admin.listOffsets({ topics: [{ name: topic, partitions }], isolationLevel: isolationLevel as 0 | 1 })),
      )
      const ends = (r: typeof committed): bigint[] =>
        (r?.[0]?.partitions ?? []).sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => p.offset)
      if (JSON.stringify(ends(committed).map(String)) === JSON.stringify(ends(all).map(String))) return
      if (Date.now() > deadline) throw new Error(`transactions on ${topic} still open after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    await admin.close()
  }
}
