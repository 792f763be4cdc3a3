/**
 * The Kafka source against the real broker of scripts/kafka.sh: the source conformance suite,
 * then what is Kafka's own (codecs, transactions, startingOffsets, patterns, limits, data loss,
 * group commits, an unreachable broker).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ComponentContext, Logger } from '../../../api/component.ts'
import { advance, type Position } from '../../../api/position.ts'
import type { KafkaExtractConfig } from './config.ts'
import { isSluiceError } from '../../../errors.ts'
import { bootstrapBrokers, createAdmin, createTopic, deleteTopics, kafkaBootstrap, produce, uniqueTopic, waitForStableOffsets, type TestMessage } from '../../../../test/helpers/kafka.ts'
import { readAll, sourceConformance } from '../../../../test/conformance/source-suite.ts'
import { Producer, Reader } from '@platformatic/kafka'
import { KafkaSource, type KafkaSourceOptions } from './source.ts'
import { PLAN_METADATA_MAX_AGE_MS } from './client.ts'

const signal = new AbortController().signal
const topics: string[] = []
after(async () => {
  if (topics.length > 0) await deleteTopics(...topics)
})

/** A logger that keeps what it is told. */
function captureLogger(): Logger & { lines: { level: string; obj: object; msg: string | undefined }[] } {
  const lines: { level: string; obj: object; msg: string | undefined }[] = []
  const log =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg })
    }
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), lines, child: () => logger }
  return logger
}

function ctx(logger: Logger = captureLogger(), pipelineId = 'it'): ComponentContext {
  return { pipelineId, baseDir: process.cwd(), logger, env: {} }
}

type Params = Partial<KafkaExtractConfig['connectionParams']>

function config(params: Params): KafkaExtractConfig {
  return {
    sourceType: 'kafka',
    connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest', failOnDataLoss: true, ...params } as KafkaExtractConfig['connectionParams'],
  }
}

async function newTopic(partitions: number, prefix = 'src'): Promise<string> {
  const t = uniqueTopic(prefix)
  topics.push(t)
  await createTopic(t, partitions)
  return t
}

function source(params: Params, logger?: Logger, options?: KafkaSourceOptions, pipelineId?: string): KafkaSource {
  return new KafkaSource(config(params), ctx(logger, pipelineId), options)
}

const values = (rs: { value: Buffer | null }[]): string[] => rs.map((r) => r.value?.toString() ?? '<null>')

sourceConformance('kafka, 3 partitions', async () => {
  const topic = await newTopic(3, 'conf')
  let n = 0
  return {
    source: source({ subscribe: topic }),
    async append(vs) {
      await produce(topic, vs.map((value) => ({ key: `k${n}`, value, partition: n++ % 3 })))
    },
    async close() {},
  }
})

sourceConformance('kafka, transactional producer (commit markers between records)', async () => {
  const topic = await newTopic(2, 'conftx')
  return {
    source: source({ subscribe: topic }),
    async append(vs) {
      // Two transactions per append, so control records sit between the data records.
      const half = Math.ceil(vs.length / 2)
      await produce(topic, vs.slice(0, half).map((value, i) => ({ value, partition: i % 2 })), { transactional: true })
      await produce(topic, vs.slice(half).map((value, i) => ({ value, partition: i % 2 })), { transactional: true })
    },
    async close() {},
  }
})

describe('kafka source', () => {
  test('records carry key, value, headers, timestamp, topic, partition and offset', async () => {
    const topic = await newTopic(2)
    await produce(topic, [
      { key: 'a', value: 'v0', partition: 1, headers: { h1: 'x', h2: Buffer.from([0, 255]) }, timestamp: 1_700_000_000_123 },
      { key: null, value: null, partition: 1, timestamp: 1_700_000_000_456 },
    ])
    const s = source({ subscribe: topic })
    try {
      await s.open(signal)
      const start = await s.initialPosition(signal)
      assert.deepEqual(start, { [`${topic}/0`]: '0', [`${topic}/1`]: '0' })
      const end = await s.plan(start, {}, signal)
      assert.deepEqual(end, { [`${topic}/0`]: '0', [`${topic}/1`]: '2' })
      const [r0, r1] = await readAll(s, start, end)
      assert.ok(r0 && r1)
      assert.equal(r0.partition, `${topic}/1`)
      assert.equal(r0.topic, topic)
      assert.equal(r0.partitionNumber, 1)
      assert.equal(r0.offset, '0')
      assert.equal(r0.key?.toString(), 'a')
      assert.equal(r0.value?.toString(), 'v0')
      assert.equal(r0.timestamp, 1_700_000_000_123)
      assert.deepEqual(r0.headers, [['h1', Buffer.from('x')], ['h2', Buffer.from([0, 255])]])
      assert.equal(r1.offset, '1')
      assert.equal(r1.key, null)
      assert.equal(r1.value, null, 'a tombstone stays null')
      assert.equal(r1.timestamp, 1_700_000_000_456)
    } finally {
      await s.close()
    }
  })

  test('every compression codec is readable: none, gzip, snappy, lz4, zstd', async () => {
    const topic = await newTopic(1)
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
    for (const compression of codecs) {
      await produce(topic, Array.from({ length: 50 }, (_, i) => ({ value: `${compression}-${i}-${'x'.repeat(150)}` })), { compression })
    }
    const s = source({ subscribe: topic })
    try {
      const start = await s.initialPosition(signal)
      // Starting mid-batch: a compressed batch is returned whole and the source skips what is before `from`.
      const from = { [`${topic}/0`]: '75' }
      const end = await s.plan(from, {}, signal)
      assert.deepEqual(end, { [`${topic}/0`]: '250' })
      const got = await readAll(s, from, end)
      const expected = codecs.flatMap((c) => Array.from({ length: 50 }, (_, i) => `${c}-${i}-${'x'.repeat(150)}`)).slice(75)
      assert.deepEqual(values(got), expected)
      assert.deepEqual(got.map((r) => r.offset), expected.map((_, i) => String(75 + i)))
      assert.deepEqual(start, { [`${topic}/0`]: '0' })
    } finally {
      await s.close()
    }
  })

  test('aborted transactions and control records never appear, even across small fetches', async () => {
    const topic = await newTopic(1)
    await produce(topic, [{ value: 'c1' }, { value: 'c2' }], { transactional: true })
    // An aborted transaction far larger than one fetch: its abort marker is many fetches away.
    const big: TestMessage[] = Array.from({ length: 300 }, (_, i) => ({ value: `aborted-${i}-${'y'.repeat(200)}` }))
    await produce(topic, big, { transactional: true, abort: true, batchSize: 20 })
    await produce(topic, [{ value: 'plain' }])
    await produce(topic, [{ value: 'c3' }], { transactional: true })
    const s = source({ subscribe: topic, 'kafka.max.partition.fetch.bytes': '2048', 'kafka.fetch.max.bytes': '4096' })
    try {
      const start = await s.initialPosition(signal)
      const end = await s.plan(start, {}, signal)
      assert.ok(end)
      const got = await readAll(s, start, end)
      assert.deepEqual(values(got), ['c1', 'c2', 'plain', 'c3'])
      // Read again from inside the aborted range, with a limit that ends inside it.
      const mid = { [`${topic}/0`]: '100' }
      const part = await s.plan(mid, { maxRecords: 50 }, signal)
      assert.deepEqual(part, { [`${topic}/0`]: '150' })
      assert.deepEqual(await readAll(s, mid, part), [])
    } finally {
      await s.close()
    }
  })

  test('one transactional producer: committed transactions between an aborted one and a later abort marker are all read', async () => {
    // The outbox relay's pattern: one transactional id, so one producer id, across transactions and
    // restarts. A relay killed mid-round leaves an aborted transaction; one fenced after
    // AddPartitionsToTxn, before its records reached a partition, leaves an abort marker without
    // data there. The client library's read_committed filter dropped everything of that producer
    // between the first and the last abort marker of a response, committed records included.
    const topic = await newTopic(1)
    const producer = new Producer({ clientId: 'sluice-test-txn', bootstrapBrokers: bootstrapBrokers(), acks: -1, idempotent: true, transactionalId: uniqueTopic('txn') })
    const message = (value: string): { topic: string; partition: number; value: Buffer } => ({ topic, partition: 0, value: Buffer.from(value) })
    try {
      let tx = await producer.beginTransaction()
      await tx.send({ messages: [message('aborted')] })
      await tx.abort()
      for (const values of [['c1', 'c2'], ['c3']]) {
        tx = await producer.beginTransaction()
        await tx.send({ messages: values.map(message) })
        await tx.commit()
      }
      tx = await producer.beginTransaction()
      await tx.addPartitions(await producer.metadata({ topics: [topic] }), [message('never sent')])
      await tx.abort()
      tx = await producer.beginTransaction()
      await tx.send({ messages: [message('c4')] })
      await tx.commit()
    } finally {
      await producer.close()
    }
    await waitForStableOffsets(topic)
    const s = source({ subscribe: topic })
    try {
      const start = await s.initialPosition(signal)
      const end = await s.plan(start, {}, signal)
      // 0 aborted, 1 its abort marker, 2-3 c1 c2, 4 commit, 5 c3, 6 commit, 7 the data-less abort marker, 8 c4, 9 commit.
      assert.deepEqual(end, { [`${topic}/0`]: '10' })
      assert.deepEqual(values(await readAll(s, start, end)), ['c1', 'c2', 'c3', 'c4'])
      assert.deepEqual((await readAll(s, start, end)).map((r) => r.offset), ['2', '3', '5', '8'])
    } finally {
      await s.close()
    }
  })

  test('startingOffsets latest and per-partition JSON (-2 earliest, -1 latest)', async () => {
    const topic = await newTopic(3)
    await produce(topic, Array.from({ length: 30 }, (_, i) => ({ value: `old-${i}`, partition: i % 3 })))
    const latest = source({ subscribe: topic, startingOffsets: 'latest' })
    const json = source({ subscribe: topic, startingOffsets: { [topic]: { '0': -2, '1': -1, '2': 4 } } })
    try {
      const l = await latest.initialPosition(signal)
      assert.deepEqual(l, { [`${topic}/0`]: '10', [`${topic}/1`]: '10', [`${topic}/2`]: '10' })
      assert.equal(await latest.plan(l, {}, signal), null)
      const j = await json.initialPosition(signal)
      assert.deepEqual(j, { [`${topic}/0`]: '0', [`${topic}/1`]: '10', [`${topic}/2`]: '4' })
      await produce(topic, [{ value: 'new', partition: 1 }])
      const end = await latest.plan(l, {}, signal)
      assert.ok(end)
      assert.deepEqual(values(await readAll(latest, l, end)), ['new'])
      const jend = await json.plan(j, {}, signal)
      assert.ok(jend)
      assert.equal((await readAll(json, j, jend)).length, 10 + 1 + 6)
    } finally {
      await latest.close()
      await json.close()
    }
  })

  test('subscribePattern reads matching topics; a topic created later is read from its start', async () => {
    const prefix = uniqueTopic('pat')
    const a = `${prefix}-a`
    topics.push(a)
    await createTopic(a, 1)
    await createTopic(`${prefix}x-nomatch`, 1)
    topics.push(`${prefix}x-nomatch`)
    await produce(a, [{ value: 'a1' }])
    await produce(`${prefix}x-nomatch`, [{ value: 'no' }])
    const s = source({ subscribePattern: `${prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}-.*`, startingOffsets: 'latest' })
    try {
      let pos: Position = await s.initialPosition(signal)
      assert.deepEqual(pos, { [`${a}/0`]: '1' })
      const b = `${prefix}-b`
      topics.push(b)
      await createTopic(b, 2)
      await produce(b, [{ value: 'b1', partition: 0 }, { value: 'b2', partition: 1 }])
      await produce(a, [{ value: 'a2' }])
      // The batch loop reuses topic metadata for up to a second (PLAN_METADATA_MAX_AGE_MS): the new
      // topic is planned within that, from its start, and nothing is read twice or skipped.
      const got: string[] = []
      const deadline = Date.now() + 10 * PLAN_METADATA_MAX_AGE_MS
      while (got.length < 3 && Date.now() < deadline) {
        const end = await s.plan(pos, {}, signal)
        if (end === null) {
          await new Promise((r) => setTimeout(r, 100))
          continue
        }
        got.push(...values(await readAll(s, pos, end)))
        pos = advance(pos, end)
      }
      assert.deepEqual(got.sort(), ['a2', 'b1', 'b2'])
      await new Promise((r) => setTimeout(r, PLAN_METADATA_MAX_AGE_MS))
      assert.equal(await s.plan(pos, {}, signal), null)
    } finally {
      await s.close()
    }
  })

  test('maxOffsetsPerTrigger is shared by lag, and no lagging partition starves', async () => {
    const topic = await newTopic(3)
    await produce(topic, [
      ...Array.from({ length: 90 }, () => ({ value: 'p0', partition: 0 })),
      ...Array.from({ length: 9 }, () => ({ value: 'p1', partition: 1 })),
      { value: 'p2', partition: 2 },
    ])
    const s = source({ subscribe: topic, maxOffsetsPerTrigger: 20 })
    try {
      const start = await s.initialPosition(signal)
      const end = await s.plan(start, {}, signal)
      assert.deepEqual(end, { [`${topic}/0`]: '18', [`${topic}/1`]: '1', [`${topic}/2`]: '1' })
      // The engine's limit applies too; the smaller one wins.
      const small = await s.plan(start, { maxRecords: 5 }, signal)
      assert.deepEqual(small, { [`${topic}/0`]: '3', [`${topic}/1`]: '1', [`${topic}/2`]: '1' })
    } finally {
      await s.close()
    }
  })

  test('a fetch response of many socket chunks is decoded from one contiguous buffer (kafka.fetch.max.bytes 8 MiB)', async () => {
    const topic = await newTopic(1)
    await produce(topic, Array.from({ length: 400 }, (_, i) => ({ value: `${i}:${'v'.repeat(2000)}` })))
    const big = 8 * 1024 * 1024
    const s = source({ subscribe: topic, 'kafka.fetch.max.bytes': String(big), 'kafka.max.partition.fetch.bytes': String(big) })
    const parsed: { bytes: number; chunks: number }[] = []
    let from: typeof Reader.from | null = null
    try {
      const start = await s.initialPosition(signal)
      // Watch what the client parses record batches from (the source's client installed contiguous-reads.ts by now).
      from = Reader.from
      const inner = from
      const end = await s.plan(start, {}, signal)
      assert.ok(end)
      Reader.from = (input) => {
        const reader = inner(input)
        parsed.push({ bytes: reader.length, chunks: reader.buffer.buffers.length })
        return reader
      }
      const records = await readAll(s, start, end)
      assert.equal(records.length, 400)
      assert.deepEqual(records.map((r) => Number(r.value?.toString().split(':')[0])), Array.from({ length: 400 }, (_, i) => i))
    } finally {
      if (from) Reader.from = from
      await s.close()
    }
    const large = parsed.filter((p) => p.bytes > 256 * 1024)
    assert.ok(large.length > 0, `a response above 256 KiB was parsed: ${JSON.stringify(parsed)}`)
    assert.deepEqual(large.map((p) => p.chunks), large.map(() => 1), 'each one from a single chunk')
  })

  test('maxBytes splits a backlog by record size (probed, then learned from reads), at least one record a batch', async () => {
    const topic = await newTopic(2)
    // Partition 0 holds 1,000-byte values, partition 1 100-byte values: 30 records each.
    await produce(topic, [
      ...Array.from({ length: 30 }, (_, i) => ({ value: `${'a'.repeat(997)}${String(i).padStart(3, '0')}`, partition: 0 })),
      ...Array.from({ length: 30 }, (_, i) => ({ value: `${'b'.repeat(97)}${String(i).padStart(3, '0')}`, partition: 1 })),
    ])
    const s = source({ subscribe: topic })
    try {
      let pos: Position = await s.initialPosition(signal)
      const batches: { p0: number; p1: number; bytes: number }[] = []
      for (let end = await s.plan(pos, { maxBytes: 10_000 }, signal); end !== null; end = await s.plan(pos, { maxBytes: 10_000 }, signal)) {
        // Planning twice from one start gives one end: the plan, not the read, decides the batch.
        assert.deepEqual(await s.plan(pos, { maxBytes: 10_000 }, signal), end)
        const records = await readAll(s, pos, end)
        batches.push({
          p0: records.filter((r) => r.partitionNumber === 0).length,
          p1: records.filter((r) => r.partitionNumber === 1).length,
          bytes: records.reduce((a, r) => a + (r.value?.length ?? 0), 0),
        })
        pos = advance(pos, end)
      }
      // 1,100 bytes per pair of offsets: 9 of each partition fit 10,000 bytes (9,900).
      assert.deepEqual(batches.slice(0, 3), [{ p0: 9, p1: 9, bytes: 9900 }, { p0: 9, p1: 9, bytes: 9900 }, { p0: 9, p1: 9, bytes: 9900 }])
      assert.ok(batches.every((b) => b.bytes <= 10_000 && b.p0 + b.p1 > 0), JSON.stringify(batches))
      assert.equal(batches.reduce((a, b) => a + b.p0 + b.p1, 0), 60)
      // A record larger than the whole cap is a batch of its own.
      const start = await s.initialPosition(signal)
      const tiny = await s.plan(start, { maxBytes: 10 }, signal)
      assert.equal(Number(tiny?.[`${topic}/0`]) + Number(tiny?.[`${topic}/1`]), 1)
    } finally {
      await s.close()
    }
  })

  test('records deleted by retention: SOURCE_DATA_LOSS, or a warning and the log start with failOnDataLoss false', async () => {
    const topic = await newTopic(1)
    await produce(topic, Array.from({ length: 20 }, (_, i) => ({ value: `r${i}` })))
    const admin = createAdmin()
    try {
      await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 12n }] }] })
    } finally {
      await admin.close()
    }
    const from = { [`${topic}/0`]: '5' }
    const strict = source({ subscribe: topic })
    const logger = captureLogger()
    const lenient = source({ subscribe: topic, failOnDataLoss: false }, logger)
    try {
      await assert.rejects(strict.plan(from, {}, signal), (err) => isSluiceError(err, 'SOURCE_DATA_LOSS') && !err.retryable)
      await assert.rejects(readAll(strict, from, { [`${topic}/0`]: '20' }), (err) => isSluiceError(err, 'SOURCE_DATA_LOSS'))
      const end = await lenient.plan(from, {}, signal)
      assert.deepEqual(end, { [`${topic}/0`]: '20' })
      assert.deepEqual(values(await readAll(lenient, from, end)), ['r12', 'r13', 'r14', 'r15', 'r16', 'r17', 'r18', 'r19'])
      assert.ok(logger.lines.some((l) => l.level === 'warn' && /failOnDataLoss is false/.test(l.msg ?? '')))
    } finally {
      await strict.close()
      await lenient.close()
    }
  })

  test('committed() copies the position to the consumer group; latest() reports the log ends', async () => {
    const topic = await newTopic(2)
    await produce(topic, [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }])
    const pipelineId = uniqueTopic('pipe')
    const s = source({ subscribe: topic }, undefined, undefined, pipelineId)
    const admin = createAdmin()
    try {
      assert.deepEqual(await s.latest(signal), { [`${topic}/0`]: '2', [`${topic}/1`]: '1' })
      await s.open(signal)
      await s.committed({ [`${topic}/0`]: '2', [`${topic}/1`]: '1' })
      const [group] = await admin.listConsumerGroupOffsets({ groups: [`sluice-${pipelineId}`] })
      const offsets = Object.fromEntries(
        (group?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]),
      )
      assert.deepEqual(offsets, { 0: 2n, 1: 1n })
    } finally {
      await admin.close()
      await s.close()
    }
  })

  test('an unreachable broker is a retryable SOURCE_UNAVAILABLE without secrets', async () => {
    const s = new KafkaSource(
      {
        sourceType: 'kafka',
        connectionParams: {
          'kafka.bootstrap.servers': '127.0.0.1:1',
          subscribe: 'x',
          startingOffsets: 'earliest',
          failOnDataLoss: true,
          'kafka.security.protocol': 'SASL_PLAINTEXT',
          'kafka.sasl.mechanism': 'PLAIN',
          'kafka.sasl.username': 'user',
          'kafka.sasl.password': 'hunter2-secret',
          'kafka.socket.connection.setup.timeout.ms': '500',
        },
      },
      ctx(),
    )
    try {
      await assert.rejects(s.open(signal), (err) => {
        assert.ok(isSluiceError(err, 'SOURCE_UNAVAILABLE'))
        assert.equal(err.retryable, true)
        assert.doesNotMatch(JSON.stringify(err.toJSON()) + err.message, /hunter2/)
        return true
      })
    } finally {
      await s.close()
    }
  })
})
