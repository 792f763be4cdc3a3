/**
 * Compression and poison input at the source: topics written with every Kafka codec, tombstones
 * (skipped; a DELETE of the key in upsert mode with deleteOnTombstone), a 900 KB value and binary
 * garbage. No crash, and every record in its destination.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { CompressionAlgorithmValue } from '@platformatic/kafka'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { createTopic, produce, uniqueTopic, type TestMessage } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { EVENT_SCHEMA, TABLE_DDL, badDataPipeline, dlqTableRows } from './fixtures.ts'

const CODECS: CompressionAlgorithmValue[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

const T0 = Date.UTC(2026, 0, 1)
const value = (id: number, note = 'n'): string =>
  JSON.stringify({ id, code: 'c', amount: 1, label: `l${id}`, event_time: new Date(T0 + id * 1000).toISOString(), note })

async function schemaWithTable(ddl = TABLE_DDL): Promise<TestSchema> {
  const s = await createTestSchema('poison')
  schemas.push(s)
  await s.pool.query(ddl)
  return s
}

interface Summary {
  ok: boolean
  queries: { summary: { recordsRead: number; written: number; dlq: number } }[]
}

describe('compression and poison input', () => {
  test('every codec, tombstones, a 900 KB value and binary garbage', async () => {
    const s = await schemaWithTable()
    const topic = uniqueTopic('poison')
    await createTopic(topic, 1)
    let id = 0
    const expectTable: number[] = []
    for (const compression of CODECS) {
      const messages: TestMessage[] = []
      for (let i = 0; i < 20; i++) {
        expectTable.push(id)
        messages.push({ key: String(id), value: value(id++), partition: 0 })
      }
      await produce(topic, messages, { compression })
    }
    const huge = value(id, 'x'.repeat(900 * 1024))
    expectTable.push(id++)
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256))
    await produce(topic, [
      { key: 'tomb-1', value: null, partition: 0 },
      { key: 'huge', value: huge, partition: 0 },
      { key: 'garbage', value: garbage, partition: 0 },
      { key: null, value: null, partition: 0 },
    ])
    const { file } = await writePipeline((dir: string) => badDataPipeline(s, topic, dir, { dlq: 'postgresql', strategy: 'drop' }), { 'event.json': EVENT_SCHEMA })
    const run = await runSluice(['run', file, '--json'])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    const summary = JSON.parse(run.stdout) as Summary
    const q = summary.queries[0]?.summary
    assert.equal(q?.recordsRead, expectTable.length + 3, 'every record read (tombstones included)')
    assert.equal(q?.written, expectTable.length)
    assert.equal(q?.dlq, 1, 'only the garbage is dead-lettered; tombstones are skipped')
    const { rows } = await s.pool.query<{ id: string; len: number }>('SELECT id, length(note) AS len FROM events ORDER BY id')
    assert.deepEqual(rows.map((r) => Number(r.id)), expectTable)
    assert.equal(rows[rows.length - 1]?.len, 900 * 1024, 'the 900 KB value landed whole')
    const dlq = await dlqTableRows(s, 'events_dlq')
    assert.equal(dlq.length, 1)
    assert.equal(dlq[0]?.code, 'RECORD_DECODE')
    assert.deepEqual(dlq[0]?.value, garbage, 'the garbage is kept byte for byte')
  })

  test('upsert with deleteOnTombstone: a tombstone deletes its key', async () => {
    const s = await schemaWithTable(
      'CREATE TABLE events (id bigint PRIMARY KEY, code varchar(10), amount numeric, label text, event_time timestamptz, note text, "offset" bigint)',
    )
    const topic = uniqueTopic('tomb')
    await createTopic(topic, 1)
    await produce(topic, [1, 2, 3, 4, 5].map((i) => ({ key: String(i), value: value(i), partition: 0 })), { compression: 'zstd' })
    await produce(topic, [
      { key: '3', value: null, partition: 0 },
      { key: '5', value: value(5, 'updated'), partition: 0 },
    ])
    const { file } = await writePipeline((dir: string) => {
      const config = badDataPipeline(s, topic, dir, { dlq: 'postgresql', strategy: 'drop' }) as { load: Record<string, unknown> }
      config.load.writeMode = 'upsert'
      config.load.upsertKeys = ['id']
      config.load.deleteOnTombstone = true
      return config
    }, { 'event.json': EVENT_SCHEMA })
    const run = await runSluice(['run', file])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    const { rows } = await s.pool.query<{ id: string; note: string }>('SELECT id, note FROM events ORDER BY id')
    assert.deepEqual(rows.map((r) => [Number(r.id), r.note]), [[1, 'n'], [2, 'n'], [4, 'n'], [5, 'updated']])
  })
})
