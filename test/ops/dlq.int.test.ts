/**
 * `sluice dlq list|show` against real dead letters: a pipeline runs (`sluice run`) records with bad
 * JSON, non-UTF-8 bytes, a JSON array and a value PostgreSQL refuses into (1) the default PostgreSQL
 * DLQ table and (2) a Kafka DLQ topic; the commands then list them by code, time and source
 * position and show one with its original key, value and headers byte for byte, changing nothing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createTopic, kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { EVENTS_DDL, kafkaPipeline } from '../e2e/fixtures.ts'

interface Bytes {
  base64: string
  text?: string
}
interface Entry {
  id: string
  code: string
  reason: string
  pipelineId: string
  batchId: string
  failedAt: string
  source: { topic: string; partition: number; offset: string }
  key: Bytes | null
  value: Bytes | null
  headers: ({ name: string } & Bytes)[]
}
interface Listing {
  pipelineId: string
  dlq: string
  byCode: Record<string, number>
  more: boolean
  deadLetters: Entry[]
}

const good = (id: number): string => JSON.stringify({ id, user_id: 'u', kind: 'click', amount: 1, event_time: '2026-01-01T00:00:00Z', note: 'n' })
const binary = Buffer.from([0xff, 0x00, 0x41])
const notUtf8 = Buffer.from([0xff, 0xfe, 0x7b])

let s: TestSchema
let topic: string

/** Runs a pipeline over the topic, then `sluice dlq ...` on it. */
async function pipeline(extra: (dir: string) => Record<string, unknown>): Promise<string> {
  const { file } = await writePipeline((dir: string) => ({ ...kafkaPipeline(s, topic, dir), ...extra(dir) }))
  const run = await runSluice(['run', file])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  return file
}

async function list(file: string, ...args: string[]): Promise<Listing> {
  const r = await runSluice(['dlq', 'list', file, '--json', ...args])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  return JSON.parse(r.stdout) as Listing
}

async function show(file: string, id: string): Promise<Entry> {
  const r = await runSluice(['dlq', 'show', file, id, '--json'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  return JSON.parse(r.stdout) as Entry
}

/** The dead letters both DLQs must hold: offsets 1, 2, 3 (decode) and 5 (the column refuses "x"). */
function assertListing(l: Listing): void {
  assert.deepEqual(l.byCode, { RECORD_COLUMN: 1, RECORD_DECODE: 3 })
  assert.equal(l.more, false)
  assert.deepEqual(l.deadLetters.map((e) => e.source.offset).sort(), ['1', '2', '3', '5'])
  assert.ok(l.deadLetters.every((e) => e.source.topic === topic && e.source.partition === 0 && e.batchId === '0' && Math.abs(Date.parse(e.failedAt) - Date.now()) < 10 * 60_000))
  const byOffset = new Map(l.deadLetters.map((e) => [e.source.offset, e]))
  assert.match(byOffset.get('1')?.reason ?? '', /not valid JSON/)
  assert.match(byOffset.get('2')?.reason ?? '', /not valid UTF-8/)
  assert.match(byOffset.get('3')?.reason ?? '', /not an object/)
  assert.equal(byOffset.get('5')?.code, 'RECORD_COLUMN')
}

/** The original key, value and headers, exactly. */
function assertOriginal(e: Entry): void {
  assert.equal(e.source.offset, '1')
  assert.equal(e.key?.text, 'k-1')
  assert.equal(Buffer.from(e.value?.base64 ?? '', 'base64').toString(), '{"id": 1, ')
  assert.deepEqual(e.headers, [
    { name: 'trace', base64: Buffer.from('abc').toString('base64'), text: 'abc' },
    { name: 'bin', base64: binary.toString('base64') },
  ])
}

describe('sluice dlq list and show', () => {
  before(async () => {
    s = await createTestSchema('optools_dlq')
    await s.pool.query(EVENTS_DDL)
    topic = uniqueTopic('optools-dlq-src')
    await createTopic(topic, 1)
    await produce(topic, [
      { key: 'k-0', value: good(0) },
      { key: 'k-1', value: '{"id": 1, ', headers: { trace: 'abc', bin: binary } },
      { key: binary, value: notUtf8 },
      { key: 'k-3', value: '[1, 2]' },
      { key: 'k-4', value: good(4) },
      { key: 'k-5', value: JSON.stringify({ id: 'x' }) },
    ])
  })
  after(async () => {
    await s.drop()
  })

  test('a PostgreSQL DLQ table: list by code, time and position; show the original bytes; nothing changes', async () => {
    const file = await pipeline(() => ({ pipelineId: `dlq-pg-${s.schema}` }))
    const checksum = async (): Promise<string> => (await s.pool.query<{ m: string }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS m FROM events_dlq t`)).rows[0]?.m ?? ''
    const before = await checksum()

    const all = await list(file)
    assert.match(all.dlq, new RegExp(`^table ${s.schema}\\.events_dlq$`))
    assertListing(all)
    assert.deepEqual((await list(file, '--code', 'record_column')).deadLetters.map((e) => e.source.offset), ['5'])
    const firstTwo = await list(file, '--limit', '2')
    assert.equal(firstTwo.deadLetters.length, 2)
    assert.equal(firstTwo.more, true)
    assert.deepEqual(firstTwo.byCode, all.byCode, 'the count by code covers every match, not only the ones shown')
    const later = await list(file, '--since', new Date(Date.now() + 3_600_000).toISOString())
    assert.deepEqual([later.deadLetters.length, later.byCode], [0, {}])
    assert.equal((await list(file, '--until', '2020-01-01T00:00:00Z')).deadLetters.length, 0)

    const malformed = all.deadLetters.find((e) => e.source.offset === '1') as Entry
    assert.equal(malformed.id, `${topic}/0@1#0`)
    assertOriginal(await show(file, malformed.id))
    const bytes = await show(file, `${topic}/0@2#0`)
    assert.deepEqual([bytes.key?.text, bytes.key?.base64, bytes.value?.text, bytes.value?.base64], [undefined, binary.toString('base64'), undefined, notUtf8.toString('base64')])

    const human = await runSluice(['dlq', 'show', file, `${topic}/0@2#0`])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /^code\s+RECORD_DECODE$/m)
    assert.match(human.stdout, new RegExp(`^value\\s+\\(not UTF-8, 3 bytes, base64\\) ${notUtf8.toString('base64')}$`, 'm'))
    const text = await runSluice(['dlq', 'list', file])
    assert.match(text.stdout, /: 4 dead letter\(s\) in table .*events_dlq \(RECORD_COLUMN 1, RECORD_DECODE 3\)/)
    assert.match(text.stdout, new RegExp(`^${topic}/0@5#0  \\S+  RECORD_COLUMN  batch 0  from ${topic}/0@5: `, 'm'))

    const missing = await runSluice(['dlq', 'show', file, `${topic}/0@4#0`])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /no dead letter .*@4#0/)
    const bad = await runSluice(['dlq', 'show', file, 'not-an-id'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /ids look like <source topic>\/<partition>@<offset>#<batch id>/)
    // Another pipeline sharing the table sees none of these.
    const other = await writePipeline((dir: string) => ({ ...kafkaPipeline(s, topic, dir), pipelineId: `dlq-other-${s.schema}` }))
    assert.equal((await list(other.file)).deadLetters.length, 0)
    assert.equal(await checksum(), before, 'the DLQ table is unchanged')
  })

  test('a Kafka DLQ topic: read read_committed, only the pipeline\'s dead letters, headers byte for byte', async () => {
    const dlqTopic = uniqueTopic('optools-dlq')
    const pipelineId = `dlq-kafka-${s.schema}`
    const file = await pipeline(() => ({
      pipelineId,
      errorHandlingConfig: { dlqConfig: { dlqType: 'kafka', bootstrapServers: kafkaBootstrap, topic: dlqTopic } },
    }))
    const all = await list(file)
    assert.equal(all.dlq, `kafka topic ${dlqTopic}`)
    assertListing(all)
    // Records that are not this pipeline's committed dead letters: another pipeline's, an aborted transaction's, not Sluice's at all.
    const sluiceHeaders = (id: string): Record<string, string> => ({ 'sluice.error.code': 'RECORD_SCHEMA', 'sluice.error.reason': 'r', 'sluice.pipeline.id': id, 'sluice.batch.id': '9', 'sluice.source.topic': topic, 'sluice.source.partition': '0', 'sluice.source.offset': '0', 'sluice.failed.at': new Date().toISOString() })
    await produce(dlqTopic, [{ value: 'x', headers: sluiceHeaders('someone-else') }, { value: 'plain' }])
    await produce(dlqTopic, [{ value: 'aborted', headers: sluiceHeaders(pipelineId) }], { transactional: true, abort: true })
    assertListing(await list(file))
    assert.deepEqual((await list(file, '--code', 'RECORD_SCHEMA')).byCode, {})

    const malformed = all.deadLetters.find((e) => e.source.offset === '1') as Entry
    assert.match(malformed.id, new RegExp(`^${dlqTopic}/0@\\d+$`))
    assertOriginal(await show(file, malformed.id))
    const gone = await runSluice(['dlq', 'show', file, `${dlqTopic}/0@999`])
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /no dead letter/)
    // The DLQ's cluster unreachable: its own code, not the source's.
    const { file: down } = await writePipeline((dir: string) => ({
      ...kafkaPipeline(s, topic, dir),
      pipelineId,
      errorHandlingConfig: { dlqConfig: { dlqType: 'kafka', bootstrapServers: '127.0.0.1:1', topic: dlqTopic } },
    }))
    const unreachable = await runSluice(['dlq', 'list', down])
    assert.equal(unreachable.code, 1)
    assert.match(unreachable.stderr, new RegExp(`DLQ_UNAVAILABLE: reading the DLQ topic ${dlqTopic}: .*127\\.0\\.0\\.1:1`))
  })
})
