/** The seed's lenient spellings parse to canonical values. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatDuration, parseDuration } from './duration.ts'
import { kafkaPipeline, setAt } from './fixtures.testkit.ts'
import { parsePipeline } from './parse.ts'
import { formatTrigger, parseTrigger } from './trigger.ts'
import type { PipelineConfig } from './types.ts'

function parseOk(config: Record<string, unknown>): PipelineConfig {
  const r = parsePipeline(config)
  if (!r.ok) assert.fail(JSON.stringify(r.issues, null, 1))
  return r.config
}

test('durations: units, spellings, numbers as milliseconds', () => {
  const cases: [string | number, number][] = [
    ['5 seconds', 5000], ['1 hour', 3_600_000], ['500 ms', 500], ['10 minutes', 600_000], ['2m', 120_000],
    ['1.5 s', 1500], ['1 Second', 1000], ['3 HOURS', 10_800_000], ['250', 250], [250, 250], ['1 day', 86_400_000],
    ['0 seconds', 0], ['30sec', 30_000], ['2 hrs', 7_200_000], ['.5s', 500],
  ]
  for (const [input, ms] of cases) assert.deepEqual(parseDuration(input), { ok: true, ms }, String(input))
  for (const bad of ['', 'soon', '5 weeks', '-1 s', '1.0001 ms', 'five seconds']) assert.equal(parseDuration(bad).ok, false, bad)
})

test('durations format canonically and round-trip', () => {
  assert.equal(formatDuration(5000), '5 seconds')
  assert.equal(formatDuration(1000), '1 second')
  assert.equal(formatDuration(500), '500 milliseconds')
  assert.equal(formatDuration(3_600_000), '1 hour')
  assert.equal(formatDuration(90_000), '90 seconds')
  assert.equal(formatDuration(0), '0 seconds')
  for (const ms of [0, 1, 999, 1000, 1500, 60_000, 61_000, 3_600_000, 86_400_000, 172_800_001]) {
    assert.deepEqual(parseDuration(formatDuration(ms)), { ok: true, ms })
  }
})

test('trigger spellings', () => {
  const cases: [string, string][] = [
    ['processingtime=5 seconds', 'processingtime=5 seconds'], ['ProcessingTime=5s', 'processingtime=5 seconds'],
    ['processing_time=5 seconds', 'processingtime=5 seconds'], ['processing-time = 500ms', 'processingtime=500 milliseconds'],
    ['once', 'once'], ['Once', 'once'], ['availableNow', 'availablenow'], ['available-now', 'availablenow'],
    ['AVAILABLE_NOW', 'availablenow'], ['continuous', 'continuous'], [' Continuous ', 'continuous'],
  ]
  for (const [input, canonical] of cases) {
    const r = parseTrigger(input)
    assert.ok(r.ok, input)
    if (r.ok) assert.equal(formatTrigger(r.trigger), canonical)
  }
  assert.deepEqual(parseTrigger('ProcessingTime=5s'), { ok: true, trigger: { type: 'processingtime', intervalMs: 5000 } })
})

test('defaults of the seed: append, continuous, idempotence on, mode batch', () => {
  const config = kafkaPipeline()
  delete config['mode']
  const c = parseOk(config)
  assert.equal(c.mode, 'batch')
  assert.equal(c.streamingConfigJson?.outputMode, 'append')
  assert.deepEqual(c.streamingConfigJson?.triggerMode, { type: 'continuous' })
  assert.equal(c.streamingConfigJson?.enableIdempotence, true)
  assert.deepEqual(c.transform, [])
  assert.deepEqual(c.errorHandlingConfig, {
    retryConfig: { strategy: 'exponential', maxAttempts: 3, initialDelaySeconds: 1, maxDelaySeconds: 60 },
    circuitBreakerConfig: { enabled: true, failureThreshold: 5, resetTimeoutSeconds: 60 },
    failFast: false,
  })
  assert.deepEqual(c.monitoring, { httpHost: '127.0.0.1', shutdownTimeoutSeconds: 30 })
  assert.equal(c.load.writeMode, 'append')
  assert.equal(c.load.autoCreateTable, true)
  assert.equal(c.extract.sourceType === 'kafka' && c.extract.connectionParams.startingOffsets, 'latest')
  assert.equal(c.extract.sourceType === 'kafka' && c.extract.connectionParams.failOnDataLoss, true)
  // subscribe defaults to topic.
  assert.equal(c.extract.sourceType === 'kafka' && c.extract.connectionParams.subscribe, 'orders')
})

test('late-data strategies: case, _ and - insensitive, short forms', () => {
  const cases: [string, string][] = [
    ['drop', 'drop'], ['LogAndDrop', 'loganddrop'], ['log_and_drop', 'loganddrop'], ['logdrop', 'loganddrop'],
    ['send-to-dlq', 'sendtodlq'], ['SendToDLQ', 'sendtodlq'], ['dlq', 'sendtodlq'], ['separate_stream', 'separatestream'], ['separate', 'separatestream'],
  ]
  for (const [input, canonical] of cases) {
    const config = setAt(kafkaPipeline(), 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '1 minute' })
    setAt(config, 'streamingConfigJson.lateDataConfig', { strategy: input, dlqTopic: 'late', separateTable: 'late_rows' })
    assert.equal(parseOk(config).streamingConfigJson?.lateDataConfig?.strategy, canonical, input)
  }
})

test('maxBytesPerTrigger takes a number of bytes or a size with a unit, in the Kafka options and the streaming settings', () => {
  const config = setAt(kafkaPipeline(), 'extract.connectionParams.maxBytesPerTrigger', '64 MiB')
  setAt(config, 'streamingConfigJson.maxBytesPerTrigger', 1048576)
  const c = parseOk(config)
  assert.ok(c.extract.sourceType === 'kafka')
  assert.equal(c.extract.connectionParams.maxBytesPerTrigger, 64 * 1024 * 1024)
  assert.equal(c.streamingConfigJson?.maxBytesPerTrigger, 1048576)
})

test('seed strings for numbers and booleans are coerced', () => {
  const config = setAt(kafkaPipeline(), 'extract.connectionParams.maxOffsetsPerTrigger', '50000')
  setAt(config, 'extract.connectionParams.failOnDataLoss', 'false')
  setAt(config, 'load.connectionParams.port', '5432')
  setAt(config, 'load.connectionParams.batchsize', '5000')
  setAt(config, 'streamingConfigJson.enableIdempotence', 'FALSE')
  const c = parseOk(config)
  assert.ok(c.extract.sourceType === 'kafka')
  assert.equal(c.extract.connectionParams.maxOffsetsPerTrigger, 50000)
  assert.equal(c.extract.connectionParams.failOnDataLoss, false)
  assert.equal(c.load.connectionParams.port, 5432)
  assert.equal(c.load.connectionParams.batchsize, 5000)
  assert.equal(c.streamingConfigJson?.enableIdempotence, false)
})

test('kafka.* options pass through as strings', () => {
  const config = setAt(kafkaPipeline(), 'extract.connectionParams', {
    'kafka.bootstrap.servers': 'a:1,b:2',
    'kafka.security.protocol': 'SASL_SSL',
    'kafka.fetch.max.bytes': 1048576,
  })
  const c = parseOk(config)
  assert.ok(c.extract.sourceType === 'kafka')
  assert.equal(c.extract.connectionParams['kafka.security.protocol'], 'SASL_SSL')
  assert.equal(c.extract.connectionParams['kafka.fetch.max.bytes'], '1048576')
})

test('startingOffsets: words, objects and Spark JSON strings', () => {
  const get = (v: unknown) => {
    const c = parseOk(setAt(kafkaPipeline(), 'extract.connectionParams.startingOffsets', v))
    return c.extract.sourceType === 'kafka' ? c.extract.connectionParams.startingOffsets : undefined
  }
  assert.equal(get('Earliest'), 'earliest')
  assert.equal(get('LATEST'), 'latest')
  assert.deepEqual(get('{"t":{"0":23,"1":-2}}'), { t: { '0': 23, '1': -2 } })
  assert.deepEqual(get({ t: { '0': -1 } }), { t: { '0': -1 } })
})

test('sinkType, dlqType, enums and steps accept lenient spellings', () => {
  const config = setAt(kafkaPipeline(), 'load.sinkType', 'PG')
  setAt(config, 'load.writeMode', 'Upsert')
  setAt(config, 'load.upsertKeys', 'window_start, region')
  setAt(config, 'streamingConfigJson.outputMode', 'Complete')
  setAt(config, 'transform', [
    { type: 'filter', field: 'amount', op: '>=', value: 10 },
    { type: 'cast', columns: { amount: 'double', id: 'Integer' } },
    { type: 'aggregate', groupBy: ['region'], aggregations: { n: { fn: 'COUNT' }, avg_amount: { fn: 'mean', field: 'amount' } }, window: { column: 'ts', duration: '1 minute' } },
  ])
  setAt(config, 'errorHandlingConfig', { dlqConfig: { dlqType: 'Postgres', table: 'dead_letters' }, retryConfig: { strategy: 'Fixed' } })
  const c = parseOk(config)
  assert.equal(c.load.sinkType, 'postgresql')
  assert.equal(c.load.writeMode, 'upsert')
  assert.deepEqual(c.load.upsertKeys, ['window_start', 'region'])
  assert.equal(c.streamingConfigJson?.outputMode, 'complete')
  assert.deepEqual(c.transform[0], { type: 'filter', field: 'amount', op: 'gte', value: 10 })
  assert.deepEqual(c.transform[1], { type: 'cast', columns: { amount: 'float', id: 'int' } })
  assert.deepEqual(c.transform[2], {
    type: 'aggregate',
    groupBy: ['region'],
    aggregations: { n: { fn: 'count' }, avg_amount: { fn: 'avg', field: 'amount' } },
    window: { column: 'ts', duration: 60_000 },
  })
  assert.deepEqual(c.errorHandlingConfig.dlqConfig, { dlqType: 'postgresql', table: 'dead_letters' })
  assert.equal(c.errorHandlingConfig.retryConfig.strategy, 'fixed')
})

test('outputMode update without aggregation is allowed (Spark treats it as append)', () => {
  const c = parseOk(setAt(kafkaPipeline(), 'streamingConfigJson.outputMode', 'update'))
  assert.equal(c.streamingConfigJson?.outputMode, 'update')
})

test('sendtodlq is satisfied by errorHandlingConfig.dlqConfig', () => {
  const config = setAt(kafkaPipeline(), 'streamingConfigJson.lateDataConfig', { strategy: 'dlq' })
  setAt(config, 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '1 minute' })
  setAt(config, 'errorHandlingConfig', { dlqConfig: { dlqType: 'kafka', bootstrapServers: 'x:1', topic: 'dlq' } })
  assert.equal(parseOk(config).streamingConfigJson?.lateDataConfig?.strategy, 'sendtodlq')
})

test('embedded load needs no connectionParams; $schema is accepted and dropped', () => {
  const c = parseOk({ $schema: '../schema/pipeline.schema.json', pipelineId: 'e', extract: { sourceType: 'file', path: 'in', format: 'NDJSON' }, load: { sinkType: 'postgresql', table: 't', embedded: 'true' } })
  assert.equal(c.load.embedded, true)
  assert.deepEqual(c.load.connectionParams, {})
  assert.ok(!('$schema' in c))
  assert.ok(c.extract.sourceType === 'file')
  assert.equal(c.extract.format, 'json')
  assert.deepEqual(c.extract.csv, { header: true, delimiter: ',' })
})

test('dlqConfig partitions / replicationFactor and outboxConfig take seed-style strings', () => {
  const config = kafkaPipeline()
  setAt(config, 'errorHandlingConfig', {
    dlqConfig: { dlqType: 'kafka', bootstrapServers: 'k:9092', topic: 'd', partitions: '6', replicationFactor: '3' },
    outboxConfig: { drainTimeoutSeconds: '120', stuckAfterSeconds: 600 },
  })
  const r = parsePipeline(config)
  assert.ok(r.ok, JSON.stringify(r.ok ? [] : r.issues))
  assert.deepEqual(r.config.errorHandlingConfig.dlqConfig, { dlqType: 'kafka', bootstrapServers: 'k:9092', topic: 'd', partitions: 6, replicationFactor: 3 })
  assert.deepEqual(r.config.errorHandlingConfig.outboxConfig, { drainTimeoutSeconds: 120, stuckAfterSeconds: 600 })
  setAt(config, 'errorHandlingConfig', { outboxConfig: { stuckAfterSeconds: 30 } })
  const defaults = parsePipeline(config)
  assert.ok(defaults.ok)
  assert.deepEqual(defaults.config.errorHandlingConfig.outboxConfig, { drainTimeoutSeconds: 60, stuckAfterSeconds: 30 })
})
