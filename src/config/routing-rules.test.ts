/** Validation of a `{topic}` template in load.table: what it needs, what it cannot be combined with. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parsePipeline } from './index.ts'
import type { ConfigIssue } from './types.ts'
import { filePipeline, kafkaPipeline, setAt, type JsonObject } from './fixtures.testkit.ts'
import { pipelineRoutes } from '../runtime/routes.ts'

function issues(raw: JsonObject): ConfigIssue[] {
  const r = parsePipeline(raw, { env: {} })
  assert.ok(!r.ok, 'the config is refused')
  return r.issues
}

function routed(table = 'raw_{topic}'): JsonObject {
  const raw = kafkaPipeline()
  setAt(raw, 'extract.topic', undefined)
  setAt(raw, 'extract.connectionParams.subscribePattern', 'orders\\..*')
  return setAt(raw, 'load.table', table)
}

test('a template with subscribePattern or a subscribe list is valid; the default DLQ table is the template with {topic} as topic, + _dlq', () => {
  for (const [table, dlq] of [['{topic}', 'topic_dlq'], ['raw_{topic}', 'raw_topic_dlq'], ['myschema.{topic}', 'myschema.topic_dlq']] as const) {
    const r = parsePipeline(routed(table), { env: {} })
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues))
    assert.deepEqual(pipelineRoutes(r.config).dlq, { kind: 'table', table: dlq })
  }
  const listed = setAt(setAt(routed(), 'extract.connectionParams.subscribePattern', undefined), 'extract.connectionParams.subscribe', 'orders.v1-eu,users')
  assert.ok(parsePipeline(listed, { env: {} }).ok)
})

test('a template with a source other than Kafka is CONFIG_INVALID at load.table, naming the value and what is allowed', () => {
  const raw = setAt(filePipeline(), 'load.table', 'raw_{topic}')
  const [issue] = issues(raw)
  assert.equal(issue?.path, 'load.table')
  assert.equal(issue?.value, 'raw_{topic}')
  assert.match(issue?.message ?? '', /needs sourceType "kafka" \(the source is "file"/)
})

test('malformed templates are refused at load.table', () => {
  assert.match(issues(routed('{topic}.events')).find((i) => i.path === 'load.table')?.message ?? '', /templates the schema/)
  assert.match(issues(routed('raw_{Topic}_{topic}')).find((i) => i.path === 'load.table')?.message ?? '', /the only placeholder is \{topic\}/)
})

test('a listed topic whose table name would pass 63 bytes is refused now', () => {
  const long = `o${'x'.repeat(60)}`
  const raw = setAt(setAt(routed(), 'extract.connectionParams.subscribePattern', undefined), 'extract.connectionParams.subscribe', `short,${long}`)
  const found = issues(raw).filter((i) => i.path === 'load.table')
  assert.equal(found.length, 1)
  assert.match(found[0]?.message ?? '', /of 65 bytes/)
})

test('what cannot be routed by topic is refused, saying why', () => {
  const at = (raw: JsonObject, path: string): string => issues(raw).find((i) => i.path === path)?.message ?? `no issue at ${path}`
  assert.match(at(setAt(routed(), 'load.writeMode', 'overwrite'), 'load.writeMode'), /use "append" or "upsert"/)
  assert.match(at(setAt(routed(), 'load.writeMode', 'upsert'), 'load.upsertKeys'), /required with load\.table "raw_\{topic\}" writes one table per Kafka topic/)
  const dedup = setAt(routed(), 'transform', [{ type: 'deduplicate', keys: ['id'], stateTimeout: '1 hour' }])
  assert.match(at(dedup, 'transform[0]'), /the deduplicate step cannot be combined with load\.table "raw_\{topic\}"/)
  const aggregate = setAt(setAt(setAt(routed(), 'transform', [{ type: 'aggregate', groupBy: ['k'], aggregations: { n: { fn: 'count' } } }]), 'load.writeMode', 'upsert'), 'load.upsertKeys', ['k'])
  assert.match(at(aggregate, 'transform[0]'), /the aggregate step cannot be combined with .*a result row has no topic to route by/)
})
