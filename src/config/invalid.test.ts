/** Rejected configs: each names the JSON path and says what is allowed. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type JsonObject, filePipeline, generatorPipeline, kafkaPipeline, setAt } from './fixtures.testkit.ts'
import { parsePipeline } from './parse.ts'

type Case = { name: string; config: JsonObject; path: string; message: RegExp; suggestion?: RegExp }

const k = (path: string, value: unknown) => setAt(kafkaPipeline(), path, value)
const f = (path: string, value: unknown) => setAt(filePipeline(), path, value)
const g = (path: string, value: unknown) => setAt(generatorPipeline(), path, value)

const AGG = { type: 'aggregate', groupBy: ['user_id'], aggregations: { n: { fn: 'count' } } }

/** A valid aggregate pipeline, then one change (undefined removes the key). */
function aggregateConfig(change: { transform?: unknown[]; outputMode?: string | undefined; writeMode?: string; upsertKeys?: string[]; deleteOnTombstone?: boolean }): JsonObject {
  const config = k('transform', change.transform ?? [AGG])
  setAt(config, 'streamingConfigJson.outputMode', 'outputMode' in change ? change.outputMode : 'update')
  setAt(config, 'load.writeMode', change.writeMode ?? 'upsert')
  if ((change.writeMode ?? 'upsert') === 'upsert') setAt(config, 'load.upsertKeys', change.upsertKeys ?? ['user_id'])
  if (change.deleteOnTombstone !== undefined) setAt(config, 'load.deleteOnTombstone', change.deleteOnTombstone)
  return config
}

test('a valid aggregate pipeline: last step, update output, upsert on the group columns', () => {
  const r = parsePipeline(aggregateConfig({}))
  assert.equal(r.ok, true, JSON.stringify(r.ok ? [] : r.issues))
  const windowed = parsePipeline(aggregateConfig({ transform: [{ ...AGG, window: { column: 'ts', duration: '1 minute' } }], outputMode: 'complete', upsertKeys: ['window_start', 'user_id'] }))
  assert.equal(windowed.ok, true, JSON.stringify(windowed.ok ? [] : windowed.issues))
  // Append mode (Spark's): a window on the watermark's column, written to an appended table.
  const sliding = { ...AGG, window: { column: 'ts', duration: '10 minutes', slide: '5 minutes', startTime: '-2 minutes' } }
  const appended = parsePipeline(setAt(aggregateConfig({ transform: [sliding], outputMode: 'append', writeMode: 'append' }), 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '10 minutes' }))
  assert.equal(appended.ok, true, JSON.stringify(appended.ok ? [] : appended.issues))
  const step = appended.ok ? appended.config.transform[0] : undefined
  assert.deepEqual(step?.type === 'aggregate' ? step.window : null, { column: 'ts', duration: 600_000, slide: 300_000, startTime: -120_000 })
  const sessions = parsePipeline(setAt(aggregateConfig({ transform: [{ ...AGG, session: { column: 'ts', gap: '5 minutes' }, stateTimeout: '1 hour' }], outputMode: 'append', writeMode: 'append' }), 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '10 minutes' }))
  assert.equal(sessions.ok, true, JSON.stringify(sessions.ok ? [] : sessions.issues))
  const completeSessions = parsePipeline(aggregateConfig({ transform: [{ ...AGG, session: { column: 'ts', gap: '5 minutes' } }], outputMode: 'complete', upsertKeys: ['user_id', 'window_start'] }))
  assert.equal(completeSessions.ok, true, JSON.stringify(completeSessions.ok ? [] : completeSessions.issues))
})

const DEDUP = { type: 'deduplicate', keys: ['user_id'], stateTimeout: '1 hour' }

test('a valid deduplicate pipeline: the last step, with a timeout or withinWatermark and a watermark', () => {
  const timed = parsePipeline(k('transform', [{ type: 'filter', field: 'user_id', op: 'ne', value: 'x' }, DEDUP]))
  assert.equal(timed.ok, true, JSON.stringify(timed.ok ? [] : timed.issues))
  const within = setAt(k('transform', [{ type: 'deduplicate', keys: ['user_id'], withinWatermark: 'true' }]), 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '10 minutes' })
  assert.equal(parsePipeline(within).ok, true)
  const inherited = setAt(k('transform', [{ type: 'deduplicate', keys: ['user_id'] }]), 'streamingConfigJson.stateTimeout', '2 hours')
  assert.equal(parsePipeline(inherited).ok, true)
  const toDlq = parsePipeline(k('transform', [{ ...DEDUP, onDuplicate: 'DLQ' }]))
  assert.ok(toDlq.ok && toDlq.config.transform[0]?.type === 'deduplicate' && toDlq.config.transform[0].onDuplicate === 'dlq', JSON.stringify(toDlq.ok ? toDlq.config.transform : toDlq.issues))
})

const cases: Case[] = [
  { name: 'deduplicate not last', config: k('transform', [DEDUP, { type: 'select', columns: ['user_id'] }]), path: 'transform[0]', message: /must be the last transform step/ },
  { name: 'deduplicate with aggregate', config: k('transform', [AGG, DEDUP]), path: 'transform[1]', message: /cannot be combined with an aggregate step/ },
  { name: 'deduplicate withinWatermark without watermark', config: k('transform', [{ type: 'deduplicate', keys: ['user_id'], withinWatermark: true }]), path: 'transform[0].withinWatermark', message: /needs streamingConfigJson.watermark/ },
  { name: 'deduplicate without expiry', config: k('transform', [{ type: 'deduplicate', keys: ['user_id'] }]), path: 'transform[0]', message: /remembered keys must expire/ },
  { name: 'wrong outputMode enum', config: k('streamingConfigJson.outputMode', 'replace'), path: 'streamingConfigJson.outputMode', message: /one of "append", "update", "complete"/ },
  { name: 'bad trigger', config: k('streamingConfigJson.triggerMode', 'every 5 seconds'), path: 'streamingConfigJson.triggerMode', message: /processingtime=<interval>.*once.*availablenow.*continuous/ },
  { name: 'processingtime without interval', config: k('streamingConfigJson.triggerMode', 'processingtime'), path: 'streamingConfigJson.triggerMode', message: /needs an interval/ },
  { name: 'bad trigger interval unit', config: k('streamingConfigJson.triggerMode', 'processingtime=5 fortnights'), path: 'streamingConfigJson.triggerMode', message: /unknown unit "fortnights"/ },
  { name: 'bad interval text', config: k('streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: 'ten minutes' }), path: 'streamingConfigJson.watermark.delayThreshold', message: /interval such as "5 seconds"/ },
  { name: 'negative interval', config: k('streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: -5 }), path: 'streamingConfigJson.watermark.delayThreshold', message: /not negative/ },
  { name: 'zero stateTimeout', config: k('streamingConfigJson.stateTimeout', '0 seconds'), path: 'streamingConfigJson.stateTimeout', message: /longer than zero/ },
  { name: 'watermark without column', config: k('streamingConfigJson.watermark', { delayThreshold: '10 minutes' }), path: 'streamingConfigJson.watermark.eventTimeColumn', message: /required/ },
  { name: 'watermark without delay', config: k('streamingConfigJson.watermark', { eventTimeColumn: 'ts' }), path: 'streamingConfigJson.watermark.delayThreshold', message: /required/ },
  { name: 'complete without aggregation', config: k('streamingConfigJson.outputMode', 'complete'), path: 'streamingConfigJson.outputMode', message: /needs an aggregate transform step/ },
  { name: 'negative maxRecordsPerTrigger', config: k('streamingConfigJson.maxRecordsPerTrigger', -1), path: 'streamingConfigJson.maxRecordsPerTrigger', message: /integer >= 1/ },
  { name: 'zero maxFilesPerTrigger', config: k('streamingConfigJson.maxFilesPerTrigger', 0), path: 'streamingConfigJson.maxFilesPerTrigger', message: /integer >= 1/ },
  { name: 'maxBytesPerTrigger with an unknown unit', config: k('extract.connectionParams.maxBytesPerTrigger', '64 TB'), path: 'extract.connectionParams.maxBytesPerTrigger', message: /unknown unit "TB"/ },
  { name: 'zero maxBytesPerTrigger', config: k('streamingConfigJson.maxBytesPerTrigger', 0), path: 'streamingConfigJson.maxBytesPerTrigger', message: /"64 MiB".*at least 1 byte/ },
  { name: 'fractional maxOffsetsPerTrigger', config: k('extract.connectionParams.maxOffsetsPerTrigger', '10.5'), path: 'extract.connectionParams.maxOffsetsPerTrigger', message: /integer >= 1/ },
  { name: 'missing checkpointLocation', config: k('streamingConfigJson.checkpointLocation', undefined), path: 'streamingConfigJson.checkpointLocation', message: /required/ },
  { name: 'streaming without streamingConfigJson', config: k('streamingConfigJson', undefined), path: 'streamingConfigJson', message: /required when mode is streaming/ },
  { name: 'wrong mode', config: k('mode', 'realtime'), path: 'mode', message: /"batch", "streaming"/ },
  { name: 'missing pipelineId', config: k('pipelineId', undefined), path: 'pipelineId', message: /required/ },
  { name: 'pipelineId with spaces', config: k('pipelineId', 'my pipeline'), path: 'pipelineId', message: /letters, digits/ },
  { name: 'pipelineId wrong type', config: k('pipelineId', 42), path: 'pipelineId', message: /must be a string/ },
  { name: 'unknown top-level key', config: k('extrat', {}), path: 'extrat', message: /unknown key "extrat"/, suggestion: /did you mean "extract"\?/ },
  { name: 'unknown streaming key', config: k('streamingConfigJson.triggerMod', 'once'), path: 'streamingConfigJson.triggerMod', message: /unknown key/, suggestion: /"triggerMode"/ },
  { name: 'unknown kafka option', config: k('extract.connectionParams.startingOffset', 'earliest'), path: 'extract.connectionParams.startingOffset', message: /unknown option.*"kafka\.\*"/, suggestion: /"startingOffsets"/ },
  { name: 'kafka option without prefix', config: k('extract.connectionParams', { 'kafka.bootstrap.servers': 'x:1', 'bootstrap.servers': 'x:1' }), path: 'extract.connectionParams["bootstrap.servers"]', message: /unknown option/, suggestion: /"kafka.bootstrap.servers"/ },
  { name: 'kafka pass-through option not a string', config: k('extract.connectionParams', { 'kafka.bootstrap.servers': 'x:1', 'kafka.client.id': { a: 1 } }), path: 'extract.connectionParams["kafka.client.id"]', message: /must be strings/ },
  { name: 'unknown sourceType', config: k('extract.sourceType', 'kinesis'), path: 'extract.sourceType', message: /"kafka", "file", "generator"/ },
  { name: 'missing bootstrap servers', config: k('extract.connectionParams', {}), path: 'extract.connectionParams["kafka.bootstrap.servers"]', message: /required/ },
  { name: 'no topic at all', config: k('extract.topic', undefined), path: 'extract.connectionParams.subscribe', message: /needs topic, connectionParams.subscribe or connectionParams.subscribePattern/ },
  { name: 'subscribe and subscribePattern', config: setAt(k('extract.topic', undefined), 'extract.connectionParams', { 'kafka.bootstrap.servers': 'x:1', subscribe: 'a', subscribePattern: 'a.*' }), path: 'extract.connectionParams.subscribePattern', message: /either subscribe or subscribePattern/ },
  { name: 'invalid subscribePattern regex', config: k('extract.connectionParams.subscribePattern', 'orders[('), path: 'extract.connectionParams.subscribePattern', message: /valid, non-empty regular expression/ },
  { name: 'startingOffsets bad word', config: k('extract.connectionParams.startingOffsets', 'beginning'), path: 'extract.connectionParams.startingOffsets', message: /"earliest", "latest", or per-partition JSON/ },
  { name: 'startingOffsets non-int partition offset', config: k('extract.connectionParams.startingOffsets', '{"orders":{"0":1.5}}'), path: 'extract.connectionParams.startingOffsets', message: /offset must be an integer >= -2/ },
  { name: 'startingOffsets non-numeric partition', config: k('extract.connectionParams.startingOffsets', { orders: { first: 0 } }), path: 'extract.connectionParams.startingOffsets', message: /partition "first" must be a non-negative integer/ },
  { name: 'failOnDataLoss not boolean', config: k('extract.connectionParams.failOnDataLoss', 'maybe'), path: 'extract.connectionParams.failOnDataLoss', message: /true or false/ },
  { name: 'wrong sinkType', config: k('load.sinkType', 'mysql'), path: 'load.sinkType', message: /"postgresql" \(also "postgres", "pg"\)/ },
  { name: 'wrong writeMode', config: k('load.writeMode', 'merge'), path: 'load.writeMode', message: /"append", "overwrite", "upsert"/ },
  { name: 'deleteOnTombstone on an upsert without keys', config: setAt(k('load.writeMode', 'upsert'), 'load.deleteOnTombstone', true), path: 'load.upsertKeys', message: /required with deleteOnTombstone/ },
  { name: 'upsert with empty keys', config: setAt(k('load.writeMode', 'upsert'), 'load.upsertKeys', []), path: 'load.upsertKeys', message: /at least one key column/ },
  { name: 'deleteOnTombstone without upsert', config: k('load.deleteOnTombstone', true), path: 'load.deleteOnTombstone', message: /only allowed with writeMode upsert/ },
  { name: 'upsertKey alias is unknown', config: k('load.upsertKey', 'id'), path: 'load.upsertKey', message: /unknown key/, suggestion: /"upsertKeys"/ },
  { name: 'port out of range', config: k('load.connectionParams.port', 70000), path: 'load.connectionParams.port', message: /integer >= 1 and <= 65535/ },
  { name: 'port not a number', config: k('load.connectionParams.port', 'fivefour'), path: 'load.connectionParams.port', message: /integer >= 1/ },
  { name: 'no connection', config: k('load.connectionParams', {}), path: 'load.connectionParams', message: /needs url, or host and database, or "embedded": true/ },
  { name: 'bad url scheme', config: k('load.connectionParams', { url: 'mysql://h/db' }), path: 'load.connectionParams.url', message: /postgres:\/\// },
  { name: 'bad sslmode', config: k('load.connectionParams.sslmode', 'no-verify'), path: 'load.connectionParams.sslmode', message: /"disable", "allow", "prefer", "require", "verify-ca", "verify-full"/ },
  { name: 'bad sslmode in the url', config: k('load.connectionParams', { url: 'postgres://h/db?sslmode=verify' }), path: 'load.connectionParams.url', message: /sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full/ },
  { name: 'sslcert without sslkey', config: k('load.connectionParams.sslcert', '/etc/sluice/client.crt'), path: 'load.connectionParams.sslcert', message: /sslcert and sslkey go together/ },
  { name: 'embedded with server url', config: setAt(k('load.embedded', true), 'load.connectionParams', { url: 'postgres://h/db' }), path: 'load.connectionParams.url', message: /pglite:\/\// },
  { name: 'batchsize zero', config: k('load.connectionParams.batchsize', '0'), path: 'load.connectionParams.batchsize', message: /integer >= 1/ },
  { name: 'sendtodlq without DLQ', config: k('streamingConfigJson.lateDataConfig', { strategy: 'sendtodlq' }), path: 'streamingConfigJson.lateDataConfig.strategy', message: /needs a DLQ/ },
  { name: 'separatestream without target', config: setAt(k('streamingConfigJson.lateDataConfig', { strategy: 'separate' }), 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '1 minute' }), path: 'streamingConfigJson.lateDataConfig.strategy', message: /separateTable, separateTopic or dlqTopic/ },
  { name: 'late data strategy unknown', config: k('streamingConfigJson.lateDataConfig', { strategy: 'ignore' }), path: 'streamingConfigJson.lateDataConfig.strategy', message: /"drop", "loganddrop", "sendtodlq", "separatestream"/ },
  { name: 'retry strategy unknown', config: k('errorHandlingConfig', { retryConfig: { strategy: 'random' } }), path: 'errorHandlingConfig.retryConfig.strategy', message: /"exponential", "linear", "fixed", "none"/ },
  { name: 'retry maxAttempts zero', config: k('errorHandlingConfig', { retryConfig: { maxAttempts: 0 } }), path: 'errorHandlingConfig.retryConfig.maxAttempts', message: /integer >= 1/ },
  { name: 'retry maxDelay below initial', config: k('errorHandlingConfig', { retryConfig: { initialDelaySeconds: 10, maxDelaySeconds: 5 } }), path: 'errorHandlingConfig.retryConfig.maxDelaySeconds', message: />= initialDelaySeconds/ },
  { name: 'circuit breaker threshold negative', config: k('errorHandlingConfig', { circuitBreakerConfig: { failureThreshold: -3 } }), path: 'errorHandlingConfig.circuitBreakerConfig.failureThreshold', message: /integer >= 1/ },
  { name: 'kafka dlq without topic', config: k('errorHandlingConfig', { dlqConfig: { dlqType: 'kafka', bootstrapServers: 'x:1' } }), path: 'errorHandlingConfig.dlqConfig.topic', message: /required for dlqType kafka/ },
  { name: 'dlq partitions on a table DLQ', config: k('errorHandlingConfig', { dlqConfig: { dlqType: 'postgresql', table: 't', partitions: 3 } }), path: 'errorHandlingConfig.dlqConfig.partitions', message: /only used with dlqType kafka/ },
  { name: 'dlq partitions zero', config: k('errorHandlingConfig', { dlqConfig: { dlqType: 'kafka', bootstrapServers: 'x:1', topic: 'd', partitions: 0 } }), path: 'errorHandlingConfig.dlqConfig.partitions', message: /1/ },
  { name: 'outbox drain timeout negative', config: k('errorHandlingConfig', { outboxConfig: { drainTimeoutSeconds: -1 } }), path: 'errorHandlingConfig.outboxConfig.drainTimeoutSeconds', message: /0/ },
  { name: 'outbox unknown key', config: k('errorHandlingConfig', { outboxConfig: { drainTimeout: 5 } }), path: 'errorHandlingConfig.outboxConfig.drainTimeout', message: /./ },
  { name: 'dlq type unknown', config: k('errorHandlingConfig', { dlqConfig: { dlqType: 's3' } }), path: 'errorHandlingConfig.dlqConfig.dlqType', message: /"kafka", "postgresql"/ },
  { name: 'failFast wrong type', config: k('errorHandlingConfig', { failFast: 1 }), path: 'errorHandlingConfig.failFast', message: /true or false/ },
  { name: 'transform not a list', config: k('transform', { type: 'select' }), path: 'transform', message: /list of transform steps/ },
  { name: 'unknown transform type', config: k('transform', [{ type: 'explode' }]), path: 'transform[0].type', message: /"select", "rename", "filter", "cast", "aggregate"/ },
  { name: 'select without columns', config: k('transform', [{ type: 'select', columns: [] }]), path: 'transform[0].columns', message: /at least one column/ },
  { name: 'filter op unknown', config: k('transform', [{ type: 'filter', field: 'a', op: 'like', value: 'x' }]), path: 'transform[0].op', message: /"eq", "ne"/ },
  { name: 'filter without value', config: k('transform', [{ type: 'filter', field: 'a', op: 'gt' }]), path: 'transform[0].value', message: /required with op gt/ },
  { name: 'filter value past 2^53', config: k('transform', [{ type: 'filter', field: 'a', op: 'eq', value: 9007199254740993 }]), path: 'transform[0].value', message: /past 2\^53.*write it as a string/ },
  { name: 'filter list value past 2^53', config: k('transform', [{ type: 'filter', field: 'a', op: 'in', value: [1, 9007199254740993] }]), path: 'transform[0].value[1]', message: /past 2\^53/ },
  { name: 'cast to unknown type', config: k('transform', [{ type: 'cast', columns: { a: 'decimal' } }]), path: 'transform[0].columns.a', message: /"string", "int", "float"/ },
  { name: 'aggregate sum without field', config: k('transform', [{ type: 'aggregate', aggregations: { total: { fn: 'sum' } } }]), path: 'transform[0].aggregations.total.field', message: /required for fn sum/ },
  { name: 'aggregate not the last step', config: aggregateConfig({ transform: [AGG, { type: 'select', columns: ['user_id', 'n'] }] }), path: 'transform[0]', message: /must be the last transform step/ },
  { name: 'aggregate with outputMode append, no window', config: aggregateConfig({ outputMode: 'append', writeMode: 'append' }), path: 'transform[0].window', message: /outputMode append with an aggregate step needs a window and streamingConfigJson.watermark/ },
  { name: 'aggregate with outputMode left at append, no window', config: aggregateConfig({ outputMode: undefined, writeMode: 'append' }), path: 'transform[0].window', message: /needs a window and streamingConfigJson.watermark/ },
  { name: 'windowed aggregate in append mode without a watermark', config: aggregateConfig({ transform: [{ ...AGG, window: { column: 'ts', duration: '1 minute' } }], outputMode: 'append', writeMode: 'append' }), path: 'streamingConfigJson.watermark', message: /needs a window and streamingConfigJson.watermark/ },
  { name: 'append-mode window on another column than the watermark', config: setAt(aggregateConfig({ transform: [{ ...AGG, window: { column: 'created', duration: '1 minute' } }], outputMode: 'append', writeMode: 'append' }), 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '1 minute' }), path: 'transform[0].window.column', message: /must be the watermark's eventTimeColumn "ts"/ },
  { name: 'append-mode aggregate with writeMode upsert', config: setAt(aggregateConfig({ transform: [{ ...AGG, window: { column: 'ts', duration: '1 minute' } }], outputMode: 'append', upsertKeys: ['user_id', 'window_start'] }), 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '1 minute' }), path: 'load.writeMode', message: /writes each window's row once.*use writeMode "append"/ },
  { name: 'session window in update mode', config: aggregateConfig({ transform: [{ ...AGG, session: { column: 'ts', gap: '5 minutes' } }], upsertKeys: ['user_id', 'window_start'] }), path: 'streamingConfigJson.outputMode', message: /a session window needs outputMode "append".*or "complete".*Spark refuses update/ },
  { name: 'session gap not positive', config: aggregateConfig({ transform: [{ ...AGG, session: { column: 'ts', gap: '0 seconds' } }], outputMode: 'append', writeMode: 'append' }), path: 'transform[0].session.gap', message: /must be longer than zero/ },
  { name: 'window and session in one step', config: setAt(aggregateConfig({ transform: [{ ...AGG, window: { column: 'ts', duration: '1 minute' }, session: { column: 'ts', gap: '5 minutes' } }], outputMode: 'append', writeMode: 'append' }), 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '1 minute' }), path: 'transform[0].session', message: /either a window or a session, not both/ },
  { name: 'aggregate stateTimeout without a session', config: aggregateConfig({ transform: [{ ...AGG, stateTimeout: '1 hour' }] }), path: 'transform[0].stateTimeout', message: /stateTimeout applies to a session window/ },
  { name: 'sliding window slide longer than the duration', config: aggregateConfig({ transform: [{ ...AGG, window: { column: 'ts', duration: '1 minute', slide: '2 minutes' } }], outputMode: 'complete', upsertKeys: ['user_id', 'window_start'] }), path: 'transform[0].window.slide', message: /must be at most the window duration/ },
  { name: 'aggregate with writeMode append', config: aggregateConfig({ writeMode: 'append' }), path: 'load.writeMode', message: /writeMode "upsert" with upsertKeys \["user_id"\]/ },
  { name: 'aggregate upsert keys not its group', config: aggregateConfig({ upsertKeys: ['id'] }), path: 'load.upsertKeys', message: /group columns: \["user_id"\]/ },
  { name: 'windowed aggregate upsert keys lack window_start', config: aggregateConfig({ transform: [{ ...AGG, window: { column: 'ts', duration: '1 minute' } }] }), path: 'load.upsertKeys', message: /and window_start: \["user_id","window_start"\]/ },
  { name: 'aggregate without group or window', config: aggregateConfig({ transform: [{ type: 'aggregate', aggregations: { n: { fn: 'count' } } }], upsertKeys: ['x'] }), path: 'transform[0].groupBy', message: /at least one groupBy column or a window/ },
  { name: 'aggregate at least once', config: setAt(aggregateConfig({}), 'streamingConfigJson.enableIdempotence', false), path: 'streamingConfigJson.enableIdempotence', message: /needs enableIdempotence true: an at-least-once replay would merge a batch into the totals twice/ },
  { name: 'aggregate with deleteOnTombstone', config: aggregateConfig({ deleteOnTombstone: true }), path: 'load.deleteOnTombstone', message: /not allowed with an aggregate step/ },
  { name: 'aggregate output named like a group column', config: aggregateConfig({ transform: [{ ...AGG, aggregations: { user_id: { fn: 'count' } } }] }), path: 'transform[0].aggregations.user_id', message: /is also a group or window column/ },
  { name: 'file archive without dir', config: f('extract.cleanSource', 'archive'), path: 'extract.sourceArchiveDir', message: /required when cleanSource is archive/ },
  { name: 'file format unknown', config: f('extract.format', 'parquet'), path: 'extract.format', message: /"json", "csv"/ },
  { name: 'file missing path', config: f('extract.path', undefined), path: 'extract.path', message: /required/ },
  { name: 'csv delimiter too long', config: f('extract.csv', { delimiter: ';;' }), path: 'extract.csv.delimiter', message: /single character/ },
  { name: 'generator no fields', config: g('extract.fields', {}), path: 'extract.fields', message: /at least one field/ },
  { name: 'generator int max < min', config: g('extract.fields', { n: { type: 'int', min: 10, max: 1 } }), path: 'extract.fields.n.max', message: />= min/ },
  { name: 'generator negative rate', config: g('extract.rowsPerSecond', -10), path: 'extract.rowsPerSecond', message: /number > 0/ },
  { name: 'generator field type unknown', config: g('extract.fields', { n: { type: 'date' } }), path: 'extract.fields.n.type', message: /"sequence", "int"/ },
  { name: 'monitoring port out of range', config: k('monitoring', { httpPort: -1 }), path: 'monitoring.httpPort', message: /integer >= 0 and <= 65535/ },
  { name: 'monitoring log level', config: k('monitoring', { logLevel: 'verbose' }), path: 'monitoring.logLevel', message: /"trace", "debug", "info", "warn", "error"/ },
  { name: 'extract wrong type', config: k('extract', 'kafka'), path: 'extract', message: /must be an object/ },
]

for (const c of cases) {
  test(`rejects: ${c.name}`, () => {
    const r = parsePipeline(c.config)
    assert.equal(r.ok, false, 'expected the config to be rejected')
    if (r.ok) return
    const hit = r.issues.find((i) => i.path === c.path)
    assert.ok(hit, `no issue at ${c.path}; got ${JSON.stringify(r.issues, null, 1)}`)
    assert.match(hit.message, c.message)
    if (c.suggestion) assert.match(hit.suggestion ?? '', c.suggestion)
  })
}

test('there are at least 30 distinct invalid configs', () => {
  assert.ok(new Set(cases.map((c) => c.name)).size >= 30)
})

test('all problems of a file are reported at once', () => {
  const config = kafkaPipeline()
  setAt(config, 'mode', 'stream')
  setAt(config, 'streamingConfigJson.triggerMode', 'sometimes')
  setAt(config, 'load.writeMode', 'upsert')
  setAt(config, 'load.deleteOnTombstone', true)
  setAt(config, 'extract.topc', 'x')
  const r = parsePipeline(config)
  assert.equal(r.ok, false)
  if (r.ok) return
  const paths = r.issues.map((i) => i.path)
  for (const p of ['mode', 'streamingConfigJson.triggerMode', 'load.upsertKeys', 'extract.topc']) assert.ok(paths.includes(p), `${p} missing from ${paths.join(', ')}`)
})

test('issue values are reported, secrets redacted', () => {
  const r = parsePipeline(k('load.connectionParams', { url: 'mysql://u:hunter2@h/db', password: 42 }))
  assert.equal(r.ok, false)
  if (r.ok) return
  const url = r.issues.find((i) => i.path === 'load.connectionParams.url')
  assert.equal(url?.value, 'mysql://u:***@h/db')
  const pw = r.issues.find((i) => i.path === 'load.connectionParams.password')
  assert.equal(pw?.value, '***')
  assert.ok(!JSON.stringify(r.issues).includes('hunter2'))
})

test('a non-object pipeline is rejected at the root', () => {
  const r = parsePipeline([1, 2])
  assert.equal(r.ok, false)
  if (!r.ok) assert.match(r.issues[0]?.message ?? '', /must be an object/)
})
