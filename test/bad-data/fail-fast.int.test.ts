/**
 * failFast: the first bad record stops the pipeline with exit code 1 and a FAIL_FAST error naming
 * its topic, partition and offset; nothing of that batch is committed (table, DLQ, tracker).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { createTopic, produce, uniqueTopic } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { EVENT_SCHEMA, TABLE_DDL, badDataPipeline, dlqTableRows } from './fixtures.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

const goodValue = (id: number): string => JSON.stringify({ id, code: 'ok', amount: 1, label: 'l', event_time: new Date(Date.UTC(2026, 0, 1) + id * 60_000).toISOString() })

async function failFastCase(bad: string, expectedCode: string): Promise<void> {
  const s = await createTestSchema('ff')
  schemas.push(s)
  await s.pool.query(TABLE_DDL)
  const topic = uniqueTopic('ff')
  await createTopic(topic, 1)
  await produce(topic, [goodValue(0), goodValue(1), bad, goodValue(3)].map((value, i) => ({ key: `k${i}`, value, partition: 0 })))
  const { file } = await writePipeline((dir: string) => badDataPipeline(s, topic, dir, { dlq: 'postgresql', strategy: 'drop', failFast: true }), { 'event.json': EVENT_SCHEMA })
  const run = await runSluice(['run', file])
  const out = run.stdout + run.stderr
  assert.equal(run.code, 1, out.slice(-3000))
  assert.match(out, /FAIL_FAST/)
  assert.match(out, new RegExp(`${topic} partition 0 offset 2 \\(${expectedCode}`), 'the message names topic, partition, offset and cause')
  const { rows } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')
  assert.equal(Number(rows[0]?.n), 0, 'no row of the batch committed')
  assert.equal((await dlqTableRows(s, 'events_dlq')).length, 0, 'nothing dead-lettered')
  const tracker = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM batch_tracker')
  assert.equal(Number(tracker.rows[0]?.n), 0, 'no batch committed')
}

describe('failFast', () => {
  test('a record that is not JSON stops the pipeline before anything is written', async () => {
    await failFastCase('{"id": 2, ', 'RECORD_DECODE')
  })

  test('a row the database refuses (varchar(10)) stops the pipeline and rolls the batch back', async () => {
    await failFastCase(JSON.stringify({ id: 2, code: 'much-too-long-for-ten', amount: 1, label: 'l', event_time: '2026-01-01T00:02:00Z' }), 'RECORD_COLUMN')
  })
})
