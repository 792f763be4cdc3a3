/** The record path of `sluice dlq replay`: the run's steps from the current config, no watermark, refusals. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Row } from '../api/record.ts'
import { fromJson, type PipelineConfig } from '../config/index.ts'
import { SluiceError } from '../errors.ts'
import type { DeadLetterEntry } from './dlq-entry.ts'
import { applyWrite, entryRecord, planReplay, refuseUnreplayable, replayPathOptions } from './dlq-replay-path.ts'

const KAFKA = { sourceType: 'kafka', topic: 'orders', connectionParams: { 'kafka.bootstrap.servers': '127.0.0.1:1' } }

function config(extra: Record<string, unknown> = {}): PipelineConfig {
  return fromJson({
    pipelineId: 'replay',
    extract: (extra.extract as object) ?? KAFKA,
    load: { sinkType: 'postgresql', table: 'orders', connectionParams: { host: '127.0.0.1', port: '1', database: 'none', user: 'nobody' }, ...((extra.load as object) ?? {}) },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'extract' && k !== 'load')),
  })
}

const FAILED_AT = '2026-11-25T10:00:00.000Z'

function entry(offset: number, value: string | null, extra: Partial<DeadLetterEntry> = {}): DeadLetterEntry {
  return {
    id: `orders/0@${offset}#0`,
    code: 'RECORD_SCHEMA',
    reason: 'was bad',
    pipelineId: 'replay',
    batchId: '0',
    failedAt: FAILED_AT,
    source: { topic: 'orders', partition: 0, offset: String(offset) },
    key: Buffer.from(`k-${offset}`),
    value: value === null ? null : Buffer.from(value),
    headers: [['trace', Buffer.from('t')]],
    ...extra,
  }
}

test('aggregate and CSV pipelines are refused with UNSUPPORTED; others pass', () => {
  const aggregate = config({
    load: { writeMode: 'upsert', upsertKeys: ['user'] },
    transform: [{ type: 'aggregate', groupBy: ['user'], aggregations: { n: { fn: 'count' } } }],
    streamingConfigJson: { checkpointLocation: '/nonexistent/cp', queryName: 'q', outputMode: 'update' },
  })
  assert.throws(() => refuseUnreplayable(aggregate), (e: unknown) => e instanceof SluiceError && e.code === 'UNSUPPORTED' && /aggregate step/.test(e.message))
  const dedup = config({ transform: [{ type: 'deduplicate', keys: ['id'], stateTimeout: '1 hour' }] })
  assert.throws(() => refuseUnreplayable(dedup), (e: unknown) => e instanceof SluiceError && e.code === 'UNSUPPORTED' && /deduplicate step/.test(e.message))
  const csv = config({ extract: { sourceType: 'file', path: '/nonexistent', format: 'csv' } })
  assert.throws(() => refuseUnreplayable(csv), (e: unknown) => e instanceof SluiceError && e.code === 'UNSUPPORTED' && /a CSV dead letter is one line without the header/.test(e.message))
  refuseUnreplayable(config())
  refuseUnreplayable(config({ extract: { sourceType: 'file', path: '/nonexistent' } }))
})

test('a dead letter is its original record again: key, value, headers, source place; its timestamp is when it failed', () => {
  const r = entryRecord(entry(7, '{}'), 'kafka')
  assert.deepEqual([r.partition, r.topic, r.partitionNumber, r.offset, r.key?.toString(), r.value?.toString(), r.timestamp, r.headers.length, r.line], ['orders/0', 'orders', 0, '7', 'k-7', '{}', Date.parse(FAILED_AT), 1, undefined])
  assert.equal(entryRecord(entry(12, '{}'), 'file').line, 12, 'a file record\'s offset is its line')
})

test('the steps of the current config decide; the watermark is not applied, the event time still read', () => {
  const c = config({
    transform: [{ type: 'filter', field: 'amount', op: 'gt', value: 0 }, { type: 'rename', mapping: { key: 'order_key' } }],
    streamingConfigJson: { checkpointLocation: '/nonexistent/cp', queryName: 'q', watermark: { eventTimeColumn: 'at', delayThreshold: '1 minute' }, lateDataConfig: { strategy: 'sendtodlq' } },
    errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'orders_bad' } },
  })
  const options = replayPathOptions(c, 'kafka', null, ['id', 'amount', 'at', 'order_key'])
  const entries = [
    entry(0, '{"id": 1, "amount": 5, "at": "2020-01-01T00:00:00Z"}', { code: 'LATE_DATA' }),
    entry(1, '{"id": 2, "amount": 0, "at": "2026-01-01T00:00:00Z"}'),
    entry(2, '{"id": 3, "amount": 1}'),
    entry(3, '{"id": 4, '),
  ]
  const plan = planReplay(options, 'kafka', entries, ['id', 'amount', 'at', 'order_key'])
  assert.deepEqual(plan.verdicts.slice(0, 3), [
    { outcome: 'row', row: { id: 1, amount: 5, at: '2020-01-01T00:00:00Z', order_key: 'k-0' } },
    { outcome: 'filtered' },
    { outcome: 'failed', code: 'RECORD_EVENT_TIME', reason: 'event time column "at" is missing' },
  ])
  const broken = plan.verdicts[3]
  assert.ok(broken?.outcome === 'failed' && broken.code === 'RECORD_DECODE' && broken.reason.startsWith('value is not valid JSON: '))
  assert.equal(plan.table.rows.length, 1)
  // The table refuses the row: it fails with the table's error and stays.
  applyWrite(plan, { written: 0, rejected: [{ row: plan.table.rows[0] as Row, error: new SluiceError('RECORD_COLUMN', 'value too long') }] })
  assert.deepEqual(plan.verdicts[0], { outcome: 'failed', code: 'RECORD_COLUMN', reason: 'value too long' })
  const stranger = { ...(plan.table.rows[0] as Row), source: entryRecord(entries[0] as DeadLetterEntry, 'kafka') }
  assert.throws(() => applyWrite(plan, { written: 0, rejected: [{ row: stranger, error: new SluiceError('RECORD_COLUMN', 'x') }] }), /no dead letter/)
})

test('tombstones: a delete by key with deleteOnTombstone, skipped without, failed when the key does not give the columns', () => {
  const upsert = config({ load: { writeMode: 'upsert', upsertKeys: ['id'], deleteOnTombstone: true } })
  const options = replayPathOptions(upsert, 'kafka', null, null)
  const plan = planReplay(options, 'kafka', [entry(0, null, { key: Buffer.from('{"id": 9}') }), entry(1, null, { key: null })], null)
  assert.deepEqual(plan.verdicts, [
    { outcome: 'deleted', key: { id: 9 } },
    { outcome: 'failed', code: 'RECORD_DECODE', reason: 'tombstone key does not give the upsert key columns id' },
  ])
  assert.deepEqual(plan.table.deletes, [{ id: 9 }])
  const skipped = planReplay(replayPathOptions(config(), 'kafka', null, null), 'kafka', [entry(0, null)], null)
  assert.equal(skipped.verdicts[0]?.outcome, 'skipped')
  // Columns unknown: the row shows every field, metadata included.
  const all = planReplay(replayPathOptions(config(), 'kafka', null, null), 'kafka', [entry(0, '{"id": 1}')], null)
  assert.ok(all.verdicts[0]?.outcome === 'row' && all.verdicts[0].row.id === 1 && all.verdicts[0].row.topic === 'orders')
})

test('a replay reads the Connect envelope and applies the column mapping as the run does', () => {
  const c = config({ extract: { ...KAFKA, envelope: 'connect' }, load: { writeMode: 'upsert', upsertKeys: ['id'], deleteOnTombstone: true, columnMapping: { city: 'address.city' } } })
  const options = replayPathOptions(c, 'kafka', null, ['id', 'city'])
  const plan = planReplay(
    options,
    'kafka',
    [entry(0, '{"schema": null, "payload": {"id": 1, "address": {"city": "Oslo"}}}'), entry(1, '{"id": 2}'), entry(2, null, { key: Buffer.from('{"schema": null, "payload": {"id": 3}}') })],
    ['id', 'city'],
  )
  assert.deepEqual(plan.verdicts[0], { outcome: 'row', row: { id: 1, city: 'Oslo' } })
  assert.equal(plan.verdicts[1]?.outcome, 'failed')
  assert.deepEqual(plan.verdicts[2], { outcome: 'deleted', key: { id: 3 } })
})
