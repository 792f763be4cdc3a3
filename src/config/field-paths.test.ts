/** Field paths and the Connect envelope in the pipeline file: what parses, and what is refused with the path, the value and what is allowed. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { filePipeline, kafkaPipeline, setAt } from './fixtures.testkit.ts'
import { parsePipeline } from './parse.ts'

function issuesOf(config: Record<string, unknown>): { path: string; message: string }[] {
  const r = parsePipeline(config)
  return r.ok ? [] : r.issues.map((i) => ({ path: i.path, message: i.message }))
}

test('paths parse in every step, the watermark and the column mapping', () => {
  const config = setAt(kafkaPipeline(), 'transform', [
    { type: 'select', columns: ['id', 'customer.name', 'items[0].sku', 'order.total', 'meta', 'a.b'] },
    { type: 'rename', mapping: { 'customer.name': 'name', 'meta["trace.id"]': 'trace' } },
    { type: 'cast', columns: { 'order.total': 'float' } },
    { type: 'filter', field: 'items[0].sku', op: 'notnull' },
    { type: 'deduplicate', keys: ['order.id'], stateTimeout: '1 hour' },
  ])
  setAt(config, 'streamingConfigJson.watermark', { eventTimeColumn: 'meta.at', delayThreshold: '1 minute' })
  setAt(config, 'load.columnMapping', { total: 'order.total', first_sku: 'items[0].sku' })
  assert.deepEqual(issuesOf(config), [])
})

test('a bad path is refused where it is written, saying what is wrong and what a path looks like', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['transform', [{ type: 'select', columns: ['a..b'] }], 'transform[0].columns[0]', /field path has an empty field name at position 3: must be a field name, or a path such as "customer.address.city"/],
    ['transform', [{ type: 'filter', field: 'items[x]', op: 'notnull' }], 'transform[0].field', /\[x\] at position 6: brackets hold an array index/],
    ['transform', [{ type: 'rename', mapping: { 'a.': 'b' } }], 'transform[0].mapping["a."]', /key "a\.": field path has an empty field name/],
    ['transform', [{ type: 'cast', columns: { 'o[1': 'int' } }], 'transform[0].columns["o[1"]', /key "o\[1": field path has "\[" at position 2 without its "\]"/],
    ['transform', [{ type: 'deduplicate', keys: ['[0]'], stateTimeout: '1 hour' }], 'transform[0].keys[0]', /starts with an index/],
    ['load.columnMapping', { total: 'order..total' }, 'load.columnMapping.total', /empty field name at position 7/],
    ['load.columnMapping', {}, 'load.columnMapping', /at least one entry/],
    ['streamingConfigJson.watermark', { eventTimeColumn: 'meta.', delayThreshold: '1 minute' }, 'streamingConfigJson.watermark.eventTimeColumn', /empty field name/],
  ]
  for (const [at, value, path, message] of cases) {
    const issues = issuesOf(setAt(kafkaPipeline(), at, value))
    const hit = issues.find((i) => i.path === path)
    assert.ok(hit, `${JSON.stringify(value)}: no issue at ${path}; got ${JSON.stringify(issues)}`)
    assert.match(hit.message, message)
  }
})

test('columnMapping is not used with an aggregate step', () => {
  const config = setAt(kafkaPipeline(), 'transform', [{ type: 'aggregate', groupBy: ['order.customer'], aggregations: { n: { fn: 'count' }, total: { fn: 'sum', field: 'order.total' } } }])
  setAt(config, 'streamingConfigJson.outputMode', 'update')
  setAt(config, 'load.writeMode', 'upsert')
  setAt(config, 'load.upsertKeys', ['order.customer'])
  assert.deepEqual(issuesOf(config), [])
  setAt(config, 'load.columnMapping', { c: 'order.customer' })
  assert.match(issuesOf(config).find((i) => i.path === 'load.columnMapping')?.message ?? '', /not used with an aggregate step/)
})

test('extract.envelope: connect in lenient spellings, for kafka and NDJSON files; not for CSV', () => {
  for (const spelling of ['connect', 'Connect', 'kafka-connect', 'JsonConverter', 'none']) {
    const r = parsePipeline(setAt(kafkaPipeline(), 'extract.envelope', spelling))
    assert.equal(r.ok, true, spelling)
    if (r.ok && r.config.extract.sourceType === 'kafka') assert.equal(r.config.extract.envelope, spelling === 'none' ? 'none' : 'connect')
  }
  assert.match(issuesOf(setAt(kafkaPipeline(), 'extract.envelope', 'avro')).find((i) => i.path === 'extract.envelope')?.message ?? '', /one of "none", "connect"/)
  assert.deepEqual(issuesOf(setAt(filePipeline(), 'extract.envelope', 'connect')), [])
  const csv = setAt(setAt(filePipeline(), 'extract.format', 'csv'), 'extract.envelope', 'connect')
  assert.match(issuesOf(csv).find((i) => i.path === 'extract.envelope')?.message ?? '', /only with format json/)
})

test('extract.envelope debezium: Kafka only, upsert with upsertKeys, not with deleteOnTombstone or an aggregate step', () => {
  const debezium = (): Record<string, unknown> => setAt(setAt(setAt(kafkaPipeline(), 'extract.envelope', 'Debezium'), 'load.writeMode', 'upsert'), 'load.upsertKeys', ['id'])
  const r = parsePipeline(debezium())
  assert.equal(r.ok, true)
  if (r.ok && r.config.extract.sourceType === 'kafka') assert.equal(r.config.extract.envelope, 'debezium')
  const at = (config: Record<string, unknown>, path: string): string => issuesOf(config).find((i) => i.path === path)?.message ?? ''
  assert.match(at(setAt(debezium(), 'load.writeMode', 'append'), 'load.writeMode'), /^extract.envelope "debezium" applies change events by key: use writeMode "upsert" with upsertKeys/)
  assert.match(at(setAt(debezium(), 'load.upsertKeys', undefined), 'load.upsertKeys'), /required, the columns a delete event's key is matched against/)
  assert.match(at(setAt(debezium(), 'load.deleteOnTombstone', true), 'load.deleteOnTombstone'), /op "d" deletes, and the tombstone Debezium sends after it is skipped/)
  const aggregate = setAt(debezium(), 'transform', [{ type: 'aggregate', groupBy: ['id'], aggregations: { n: { fn: 'count' } } }])
  assert.match(at(aggregate, 'extract.envelope'), /not with an aggregate step/)
  assert.match(at(setAt(filePipeline(), 'extract.envelope', 'debezium'), 'extract.envelope'), /one of "none", "connect"$/)
})
