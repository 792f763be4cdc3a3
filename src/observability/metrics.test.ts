import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Registry } from 'prom-client'
import { batchProgress } from '../engine/batch-report.ts'
import { EngineEvents } from '../engine/events.ts'
import { attachMetrics, createMetrics } from './metrics.ts'

/** Value of one sample line (`name{labels} value`) in the exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const hasPromtool = spawnSync('promtool', ['--version']).status === 0

function setup(): { events: EngineEvents; registry: Registry; clock: { t: number } } {
  const clock = { t: 1_800_000_000_000 }
  const registry = new Registry()
  const events = new EngineEvents()
  attachMetrics(events, createMetrics(registry, { now: () => clock.t }))
  return { events, registry, clock }
}

function commit(events: EngineEvents, batchId: number, committedAt: number): void {
  events.emit('batch.committed', {
    pipelineId: 'orders',
    batchId,
    recordsRead: 10,
    destinations: { table: 6, dlq: 3, late: 1 },
    dlqByCode: { RECORD_DECODE: 2, RECORD_COLUMN: 1 },
    durationMs: 1500,
    committedAt,
    maxRecordTimestampMs: committedAt - 4000,
    position: { 'orders/0': '10' },
    watermarkMs: null,
    progress: batchProgress({ batchId, start: {}, end: { 'orders/0': '10' }, watermarkMs: null, plannedAt: new Date(committedAt - 1500).toISOString() }, 10, 1500, null, null),
  })
}

test('seed metrics move as batches commit', async () => {
  const { events, registry, clock } = setup()
  events.emit('query.state', { pipelineId: 'orders', state: 'running' })
  let text = await registry.metrics()
  assert.equal(sample(text, 'etl_batch_duplicates_total{pipeline_id="orders"}'), 0, 'series exists before the first duplicate')
  assert.equal(sample(text, 'etl_batch_rate_per_minute{pipeline_id="orders"}'), 0)
  assert.equal(sample(text, 'sluice_query_up{pipeline_id="orders"}'), 1)

  commit(events, 1, clock.t - 90_000)
  commit(events, 2, clock.t - 30_000)
  commit(events, 3, clock.t - 1_000)
  events.emit('batch.duplicate', { pipelineId: 'orders', batchId: 3 })
  events.emit('tracker.size', { pipelineId: 'orders', rows: 1234 })
  text = await registry.metrics()
  assert.equal(sample(text, 'etl_batch_last_id{pipeline_id="orders"}'), 3)
  assert.equal(sample(text, 'etl_batch_last_processed_timestamp_seconds{pipeline_id="orders"}'), (clock.t - 1_000) / 1000)
  assert.equal(sample(text, 'etl_batch_processing_lag_seconds{pipeline_id="orders"}'), 4)
  assert.equal(sample(text, 'etl_batch_rate_per_minute{pipeline_id="orders"}'), 2, 'only commits of the last 60 s')
  assert.equal(sample(text, 'etl_batch_duplicates_total{pipeline_id="orders"}'), 1)
  assert.equal(sample(text, 'etl_batch_tracker_records_total{pipeline_id="orders"}'), 1234)
  assert.match(text, /# TYPE etl_batch_tracker_records_total untyped/)

  clock.t += 120_000
  text = await registry.metrics()
  assert.equal(sample(text, 'etl_batch_rate_per_minute{pipeline_id="orders"}'), 0, 'the window slides')
})

test('record counters by destination and reason, duration histogram', async () => {
  const { events, registry, clock } = setup()
  commit(events, 1, clock.t)
  commit(events, 2, clock.t)
  const text = await registry.metrics()
  const records = (d: string, r: string): number | undefined =>
    sample(text, `sluice_records_total{pipeline_id="orders",destination="${d}",reason="${r}"}`)
  assert.equal(records('read', ''), 20)
  assert.equal(records('table', ''), 12)
  assert.equal(records('late', ''), 2)
  assert.equal(records('dlq', 'RECORD_DECODE'), 4)
  assert.equal(records('dlq', 'RECORD_COLUMN'), 2)
  assert.equal(records('dlq', 'UNKNOWN'), undefined)
  assert.equal(sample(text, 'sluice_batch_duration_seconds_count{pipeline_id="orders"}'), 2)
  assert.equal(sample(text, 'sluice_batch_duration_seconds_sum{pipeline_id="orders"}'), 3)
  assert.equal(sample(text, 'sluice_batch_duration_seconds_bucket{le="1",pipeline_id="orders"}'), 0)
  assert.equal(sample(text, 'sluice_batch_duration_seconds_bucket{le="2.5",pipeline_id="orders"}'), 2)
})

test('lag, circuit, retries, failures and query state', async () => {
  const { events, registry } = setup()
  events.emit('source.lag', { pipelineId: 'orders', lag: { 'orders/0': 5, 'orders/1': 0 }, latest: { 'orders/0': '15', 'orders/1': '3' } })
  events.emit('circuit.state', { pipelineId: 'orders', state: 'open' })
  events.emit('batch.failed', { pipelineId: 'orders', batchId: 4, attempt: 1, code: 'SINK_UNAVAILABLE', retryable: true, message: 'x' })
  events.emit('batch.retry', { pipelineId: 'orders', batchId: 4, attempt: 1, delayMs: 1000, code: 'SINK_UNAVAILABLE' })
  events.emit('batch.retry', { pipelineId: 'orders', batchId: 4, attempt: 2, delayMs: 2000, code: 'SINK_UNAVAILABLE' })
  let text = await registry.metrics()
  assert.equal(sample(text, 'sluice_consumer_lag{pipeline_id="orders",partition="orders/0"}'), 5)
  assert.equal(sample(text, 'sluice_consumer_lag{pipeline_id="orders",partition="orders/1"}'), 0)
  assert.equal(sample(text, 'sluice_circuit_state{pipeline_id="orders"}'), 2)
  assert.equal(sample(text, 'sluice_batch_failures_total{pipeline_id="orders",code="SINK_UNAVAILABLE"}'), 1)
  assert.equal(sample(text, 'sluice_batch_retries_total{pipeline_id="orders",code="SINK_UNAVAILABLE"}'), 2)
  events.emit('circuit.state', { pipelineId: 'orders', state: 'half-open' })
  events.emit('query.state', { pipelineId: 'orders', state: 'failed', error: { code: 'SINK_SCHEMA', message: 'x' } })
  text = await registry.metrics()
  assert.equal(sample(text, 'sluice_circuit_state{pipeline_id="orders"}'), 1)
  assert.equal(sample(text, 'sluice_query_up{pipeline_id="orders"}'), 0)
})

test('every metric has HELP text, including the process defaults', async () => {
  const { events, registry, clock } = setup()
  commit(events, 1, clock.t)
  const text = await registry.metrics()
  const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1])
  const helps = new Set([...text.matchAll(/^# HELP (\S+) \S/gm)].map((m) => m[1]))
  assert.ok(types.length > 20)
  for (const name of types) assert.ok(helps.has(name), `HELP for ${name}`)
  assert.ok(types.includes('process_cpu_seconds_total'), 'prom-client defaults are there')
})

test('promtool check metrics accepts the output', async (t) => {
  if (!hasPromtool) {
    t.skip('promtool not on PATH: install prometheus (apt-get install prometheus) to run this check')
    return
  }
  const { events, registry, clock } = setup()
  commit(events, 1, clock.t)
  events.emit('source.lag', { pipelineId: 'orders', lag: { 'orders/0': 5 }, latest: { 'orders/0': '15' } })
  events.emit('batch.retry', { pipelineId: 'orders', batchId: 2, attempt: 1, delayMs: 1, code: 'SINK_TIMEOUT' })
  events.emit('batch.failed', { pipelineId: 'orders', batchId: 2, attempt: 1, code: 'SINK_TIMEOUT', retryable: true, message: 'x' })
  events.emit('tracker.size', { pipelineId: 'orders', rows: 3 })
  const result = spawnSync('promtool', ['check', 'metrics'], { input: await registry.metrics(), encoding: 'utf8' })
  assert.equal(result.status, 0, `promtool: ${result.stdout}${result.stderr}`)
})

test('separate registries are independent (one per test or per process)', async () => {
  const a = setup()
  const b = setup()
  commit(a.events, 9, a.clock.t)
  assert.equal(sample(await a.registry.metrics(), 'etl_batch_last_id{pipeline_id="orders"}'), 9)
  assert.equal(sample(await b.registry.metrics(), 'etl_batch_last_id{pipeline_id="orders"}'), undefined)
})

test('ops/prometheus/alerts.yml uses only exported metrics and passes promtool', async (t) => {
  const dir = new URL('../../ops/prometheus/', import.meta.url).pathname
  const rules = readFileSync(`${dir}alerts.yml`, 'utf8')
  const { registry } = setup()
  const exported = new Set([...(await registry.metrics()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]))
  const used = [...rules.matchAll(/^\s+expr: (.*)$/gm)].flatMap((m) => [...(m[1] ?? '').matchAll(/\b(etl_\w+|sluice_\w+)/g)].map((x) => x[1]))
  assert.equal(used.length, 4)
  for (const name of used) assert.ok(exported.has(name), `${name} is exported`)
  if (!hasPromtool) {
    t.skip('promtool not on PATH: rule syntax and alert unit tests not checked')
    return
  }
  const check = spawnSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir, encoding: 'utf8' })
  assert.equal(check.status, 0, check.stdout + check.stderr)
  const unit = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' })
  assert.equal(unit.status, 0, unit.stdout + unit.stderr)
})

test('ops/grafana/sluice.json queries only exported metrics', async () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../ops/grafana/sluice.json', import.meta.url), 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>
    templating: { list: Array<{ type: string; query: unknown }> }
  }
  const { events, registry, clock } = setup()
  commit(events, 1, clock.t)
  const exported = new Set([...(await registry.metrics()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]))
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
  assert.ok(exprs.length >= 10)
  const names = exprs.flatMap((e) => [...e.matchAll(/\b((?:etl|sluice|process|nodejs)_[a-z_]+?)(?:_bucket)?\b(?=[{[ )]|$)/g)].map((m) => m[1]))
  for (const name of names) assert.ok(exported.has(name), `${name} is exported`)
  for (const seed of ['sluice_records_total', 'etl_batch_processing_lag_seconds', 'sluice_batch_duration_seconds', 'etl_batch_duplicates_total', 'sluice_circuit_state', 'sluice_consumer_lag']) {
    assert.ok(names.includes(seed), `dashboard shows ${seed}`)
  }
  assert.ok(dashboard.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'), 'datasource variable')
})

test('sluice_outbox_pending follows the relay: rows waiting after its last attempt', async () => {
  const { events, registry } = setup()
  events.emit('outbox.pending', { pipelineId: 'orders', rows: 7, topics: { 'orders-dlq': 7 }, failingSinceMs: 1, lastError: 'Kafka down' })
  assert.equal(sample(await registry.metrics(), 'sluice_outbox_pending{pipeline_id="orders"}'), 7)
  events.emit('outbox.pending', { pipelineId: 'orders', rows: 0, topics: {}, failingSinceMs: null, lastError: null })
  assert.equal(sample(await registry.metrics(), 'sluice_outbox_pending{pipeline_id="orders"}'), 0)
})

test('every series carries the worker label when the run names its worker', async () => {
  const registry = new Registry()
  const events = new EngineEvents()
  attachMetrics(events, createMetrics(registry, { worker: 'host-a:42' }))
  commit(events, 0, 1_800_000_000_000)
  const text = await registry.metrics()
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
  assert.ok(series.length > 10)
  for (const line of series) assert.match(line, /worker="host-a:42"/, line)
})
