/** The dry run of `sluice test`: each record's outcome through the real record path, no sink. */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { SourceRecord } from '../api/record.ts'
import { loadPipelineFile } from '../config/index.ts'
import { type DryRunLine, dryRun, dryRunPipeline } from './dry-run.ts'
import { parseInput } from './dry-run-input.ts'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** A pipeline file (plus schema files) in a fresh folder; the sink is unreachable on purpose: the dry run never connects. */
async function pipeline(extra: Record<string, unknown>, schemas: Record<string, unknown> = {}): Promise<Awaited<ReturnType<typeof dryRunPipeline>>> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dryrun-'))
  dirs.push(dir)
  await mkdir(join(dir, 'schemas'))
  for (const [name, s] of Object.entries(schemas)) await writeFile(join(dir, 'schemas', `${name}.json`), JSON.stringify(s))
  const file = join(dir, 'pipeline.json')
  await writeFile(
    file,
    JSON.stringify({
      pipelineId: 'dry',
      extract: { sourceType: 'kafka', topic: 'orders', connectionParams: { 'kafka.bootstrap.servers': '127.0.0.1:1' }, ...((extra.extract as object) ?? {}) },
      load: { sinkType: 'postgresql', table: 'orders', connectionParams: { host: '127.0.0.1', port: '1', database: 'none', user: 'nobody' }, ...((extra.load as object) ?? {}) },
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'extract' && k !== 'load')),
    }),
  )
  const { config, baseDir } = await loadPipelineFile(file, { env: {} })
  return dryRunPipeline(config, baseDir)
}

const input = (...lines: string[]): SourceRecord[] => parseInput(lines.join('\n'), 'auto', { topic: 'orders', withLines: false }, 'in.ndjson')
const outcomes = (lines: readonly DryRunLine[]): string[] => lines.map((l) => l.outcome)

const streaming = (extra: Record<string, unknown> = {}) => ({
  checkpointLocation: '/nonexistent/cp',
  queryName: 'q',
  watermark: { eventTimeColumn: 'at', delayThreshold: '1 minute' },
  ...extra,
})

test('each record ends as a row, a dead letter with its code and reason, late, or filtered', async () => {
  const p = await pipeline(
    {
      extract: { schemaName: 'order' },
      load: { schemaName: 'orders-table' },
      transform: [{ type: 'filter', field: 'amount', op: 'gt', value: 0 }, { type: 'rename', mapping: { key: 'order_key' } }],
      streamingConfigJson: streaming({ lateDataConfig: { strategy: 'sendtodlq' } }),
      errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'orders_bad' } },
    },
    {
      order: { type: 'object', required: ['id', 'amount'], properties: { id: { type: 'integer' }, amount: { type: 'number' }, at: { type: 'string' } } },
      'orders-table': { columns: { id: 'bigint', amount: 'numeric', at: 'timestamptz', order_key: 'text' }, primaryKey: ['id'] },
    },
  )
  const lines = dryRun(
    p,
    input(
      '{"key": "k-1", "value": {"id": 1, "amount": 12.5, "at": "2026-11-25T10:00:00Z"}}',
      '{"id": 2, "amount": 3',
      '{"id": "x", "amount": 1, "at": "2026-11-25T10:00:00Z"}',
      '{"id": 4, "amount": 0, "at": "2026-11-25T10:00:00Z"}',
      '{"id": 5, "amount": 1, "at": "2026-11-25T09:00:00Z"}',
      '{"id": 9007199254740993, "amount": 7, "at": "2026-11-25T10:00:30Z"}',
    ),
    { watermarkMs: Date.parse('2026-11-25T09:30:00Z'), batchSize: Number.POSITIVE_INFINITY },
  )
  assert.deepEqual(outcomes(lines), ['row', 'dead', 'dead', 'filtered', 'late', 'row'])
  const [row, decode, schema, , late, exact] = lines
  // The table's columns only, with the Kafka key renamed into order_key; the metadata the table has no column for is not shown.
  assert.deepEqual(row?.outcome === 'row' && row.row, { id: 1, amount: 12.5, at: '2026-11-25T10:00:00Z', order_key: 'k-1' })
  assert.ok(decode?.outcome === 'dead' && decode.code === 'RECORD_DECODE' && /not valid JSON/.test(decode.reason) && decode.to === 'table orders_bad')
  assert.ok(schema?.outcome === 'dead' && schema.code === 'RECORD_SCHEMA' && /id/.test(schema.reason))
  assert.ok(late?.outcome === 'late' && late.code === 'LATE_DATA' && /at or below the watermark 2026-11-25T09:30:00.000Z/.test(late.reason) && late.to === 'table orders_bad')
  assert.equal(JSON.stringify(exact?.outcome === 'row' && exact.row.id), '9007199254740993', 'a number past 2^53 stays exact')
  assert.deepEqual(decode?.outcome === 'dead' && decode.source, { topic: 'orders', partition: 0, offset: '1' })
})

test('the watermark advances between batches as in a run, never within one', async () => {
  const p = await pipeline({ streamingConfigJson: streaming() })
  const records = input('{"at": "2026-11-25T10:00:00Z"}', '{"at": "2026-11-25T09:00:00Z"}', '{"at": "2026-11-25T09:58:00Z"}')
  assert.deepEqual(outcomes(dryRun(p, records, { watermarkMs: null, batchSize: Number.POSITIVE_INFINITY })), ['row', 'row', 'row'], 'one batch: nothing is late')
  // Batch 1 sets the watermark to 09:59 (10:00 - 1 minute): 09:00 and 09:58 in batch 2 are late.
  assert.deepEqual(outcomes(dryRun(p, records, { watermarkMs: null, batchSize: 1 })), ['row', 'late', 'late'])
  const missing = dryRun(p, input('{"id": 1}'), { watermarkMs: null, batchSize: 1 })
  assert.ok(missing[0]?.outcome === 'dead' && missing[0].code === 'RECORD_EVENT_TIME')
})

test('late records name where their strategy sends them; dead letters go to <table>_dlq by default', async () => {
  const dropped = await pipeline({ streamingConfigJson: streaming({ lateDataConfig: { strategy: 'drop' } }) })
  const late = dryRun(dropped, input('{"at": "2026-01-01T00:00:00Z"}', 'nope'), { watermarkMs: Date.parse('2026-06-01T00:00:00Z'), batchSize: 10 })
  assert.ok(late[0]?.outcome === 'late' && late[0].to === 'dropped')
  assert.ok(late[1]?.outcome === 'dead' && late[1].to === 'table orders_dlq')
  const topic = await pipeline({ streamingConfigJson: streaming({ lateDataConfig: { strategy: 'separatestream', dlqTopic: 'late-orders' } }) })
  const sent = dryRun(topic, input('{"at": "2026-01-01T00:00:00Z"}'), { watermarkMs: Date.parse('2026-06-01T00:00:00Z'), batchSize: 10 })
  assert.ok(sent[0]?.outcome === 'late' && sent[0].to === 'topic late-orders')
})

test('a failing cast is a dead letter of the record; failFast is said', async () => {
  const p = await pipeline({ transform: [{ type: 'cast', columns: { n: 'int' } }], errorHandlingConfig: { failFast: true } })
  const lines = dryRun(p, input('{"n": "12"}', '{"n": "twelve"}'), { watermarkMs: null, batchSize: 10 })
  assert.ok(lines[0]?.outcome === 'row' && lines[0].row.n === 12)
  assert.ok(lines[1]?.outcome === 'dead' && lines[1].code === 'RECORD_TRANSFORM' && lines[1].failFast === true)
})

test('tombstones: skipped, or a delete of the key (void when the batch brings the key back)', async () => {
  const skip = await pipeline({})
  const tomb = input('{"key": "{\\"id\\": 1}", "value": null}')
  assert.deepEqual(outcomes(dryRun(skip, tomb, { watermarkMs: null, batchSize: 10 })), ['skipped'])
  const upsert = await pipeline({ load: { writeMode: 'upsert', upsertKeys: ['id'], deleteOnTombstone: true } })
  const lines = dryRun(upsert, input('{"key": "{\\"id\\": 1}", "value": null}', '{"key": "{\\"id\\": 2}", "value": null}', '{"id": 2}'), { watermarkMs: null, batchSize: 10 })
  assert.deepEqual(outcomes(lines), ['delete', 'delete', 'row'])
  assert.ok(lines[0]?.outcome === 'delete' && lines[0].void === undefined && lines[0].key.id === 1)
  assert.ok(lines[1]?.outcome === 'delete' && lines[1].void === true)
})

test('the aggregate step: each record says its group, the partial rows follow, an unaggregatable record is a dead letter', async () => {
  const p = await pipeline({
    load: { writeMode: 'upsert', upsertKeys: ['user'] },
    transform: [{ type: 'aggregate', groupBy: ['user'], aggregations: { n: { fn: 'count' }, total: { fn: 'sum', field: 'amount' } } }],
    streamingConfigJson: { checkpointLocation: '/nonexistent/cp', queryName: 'q', outputMode: 'update' },
  })
  const lines = dryRun(p, input('{"user": "a", "amount": 1}', '{"user": "b", "amount": 2}', '{"user": "a", "amount": "0.5"}', '{"amount": 4}'), { watermarkMs: null, batchSize: 10 })
  assert.deepEqual(outcomes(lines), ['aggregated', 'aggregated', 'aggregated', 'dead', 'aggregate', 'aggregate'])
  assert.ok(lines[0]?.outcome === 'aggregated' && lines[0].group.user === 'a')
  assert.ok(lines[3]?.outcome === 'dead' && lines[3].code === 'RECORD_TRANSFORM')
  const a = lines[4]
  assert.ok(a?.outcome === 'aggregate')
  assert.deepEqual(a.records, [1, 3])
  assert.equal(a.row.n, 2)
  assert.equal(String(a.row.total), '1.5')
})

test('the Connect envelope and the column mapping apply as in a run', async () => {
  const p = await pipeline({
    extract: { envelope: 'connect' },
    load: { writeMode: 'upsert', upsertKeys: ['id'], deleteOnTombstone: true, columnMapping: { city: 'address.city', first_tag: 'tags[0]' } },
  })
  const lines = dryRun(
    p,
    input('{"schema": null, "payload": {"id": 1, "address": {"city": "Oslo"}, "tags": ["a"]}}', '{"schema": null, "id": 2}', '{"key": "{\\"schema\\": null, \\"payload\\": {\\"id\\": 1}}", "value": null}'),
    { watermarkMs: null, batchSize: 10 },
  )
  assert.deepEqual(outcomes(lines), ['row', 'dead', 'delete'])
  assert.ok(lines[0]?.outcome === 'row' && lines[0].row.city === 'Oslo' && lines[0].row.first_tag === 'a')
  assert.ok(lines[1]?.outcome === 'dead' && lines[1].code === 'RECORD_DECODE' && /no "payload" field/.test(lines[1].reason))
  assert.ok(lines[2]?.outcome === 'delete' && lines[2].key.id === 1)
})
